package distro

import (
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

const colonPasswd = `root:x:0:0:root:/root:/bin/bash
# a comment:x:1:1::/:/bin/sh

short:x:5
daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin
alice:x:1000:1000:Alice:/home/alice:/bin/bash
root:x:0:0:second root:/nowhere:/bin/sh
+::::::
-bob::::::
short:x:1001:1001::/home/short:/bin/sh
`

func TestColonEntriesOrderAndRules(t *testing.T) {
	var names []string
	for _, f := range ColonEntries(colonPasswd, 7) {
		if len(f) != 7 {
			t.Errorf("%v: %d fields", f, len(f))
		}
		names = append(names, f[0])
	}
	// File order; comment, empty and short lines skipped; the first root
	// wins; the short line does not hide the later full entry of its name;
	// NIS compat lines are entries like any other (callers skip them).
	want := []string{"root", "daemon", "alice", "+", "-bob", "short"}
	if !reflect.DeepEqual(names, want) {
		t.Errorf("names = %v, want %v", names, want)
	}
	if got := ColonEntries(colonPasswd, 7)[0][5]; got != "/root" {
		t.Errorf("root's home = %q, want the first entry's /root", got)
	}
	if got := ColonEntries("", 7); len(got) != 0 {
		t.Errorf("empty text: %v", got)
	}
}

func TestColonFileMatchesColonEntries(t *testing.T) {
	m := ColonFile(colonPasswd, 7)
	entries := ColonEntries(colonPasswd, 7)
	if len(m) != len(entries) {
		t.Fatalf("ColonFile has %d names, ColonEntries %d", len(m), len(entries))
	}
	for _, f := range entries {
		if !reflect.DeepEqual(m[f[0]], f) {
			t.Errorf("%s: ColonFile %v, ColonEntries %v", f[0], m[f[0]], f)
		}
	}
	if got := m["root"][4]; got != "root" {
		t.Errorf("first root entry should win, got GECOS %q", got)
	}
	if _, ok := m["short"]; !ok || m["short"][2] != "1001" {
		t.Errorf("short = %v, want the full entry", m["short"])
	}
	// Fewer fields asked: the short line is the first entry of its name.
	if got := ColonFile(colonPasswd, 3)["short"]; strings.Join(got, ":") != "short:x:5" {
		t.Errorf("nfields 3: short = %v", got)
	}
}

func TestColonEntriesGroup(t *testing.T) {
	group := "root:x:0:\nsudo:x:27:alice,bob\nadm:x:4\nsudo:x:99:carol\n"
	got := ColonEntries(group, 4)
	want := [][]string{{"root", "x", "0", ""}, {"sudo", "x", "27", "alice,bob"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestNISCompat(t *testing.T) {
	for name, want := range map[string]bool{
		"+": true, "+alice": true, "-bob": true, "+@admins": true, "-@guests": true,
		"alice": false, "": false, "a-b": false, "svc+": false,
	} {
		if got := NISCompat(name); got != want {
			t.Errorf("NISCompat(%q) = %v, want %v", name, got, want)
		}
	}
}

// TestColonIDsMatchesColonFile: the same names and numbers as ColonFile's
// third field, on passwd and group texts with comments, short lines,
// duplicates, NIS lines, a blank id and a missing final newline.
func TestColonIDsMatchesColonFile(t *testing.T) {
	for _, c := range []struct {
		text    string
		nfields int
	}{
		{colonPasswd, 7}, {colonPasswd, 3}, {"root:x:0:\nsudo:x:27:alice,bob\nadm:x:4\nsudo:x:99:carol\nnogid:x::\nlast:x:7:", 4},
		{"", 7}, {"\n\n#x:y:1:1\n", 4}, {"a:b:c:d:e:f:g:h\n", 7},
	} {
		want := map[string]int{}
		for name, f := range ColonFile(c.text, c.nfields) {
			want[name], _ = strconv.Atoi(f[2])
		}
		if got := ColonIDs(c.text, c.nfields); !reflect.DeepEqual(got, want) {
			t.Errorf("%q/%d: ColonIDs %v, ColonFile %v", c.text, c.nfields, got, want)
		}
	}
}

// TestUIDRangeFromLoginDefs: the values useradd uses, defaults when absent,
// comments and malformed lines ignored, leading blanks allowed.
func TestUIDRangeFromLoginDefs(t *testing.T) {
	for text, want := range map[string]UIDRange{
		"":                                         {1000, 60000},
		"UID_MIN 500\nUID_MAX\t59999\n":            {500, 59999},
		"# UID_MIN 1\n#UID_MAX 2\nUID_MIN x\n":     {1000, 60000},
		"  UID_MIN   2000 # local\nUID_MAXX 5\n":   {2000, 60000},
		"SYS_UID_MIN 100\nUID_MIN 1001\nUID_MAX 9": {1001, 9},
	} {
		if got := UIDRangeFromLoginDefs(text); got != want {
			t.Errorf("%q: %v, want %v", text, got, want)
		}
	}
}

// TestUserNameRules holds each rule's matcher to the Pattern its messages
// quote, and its length limit.
func TestUserNameRules(t *testing.T) {
	names := []string{"alice", "al-ice_2", "_svc", "svc$", "x$$", "$", "-x", "2fa", "Alice", "a b", "é", "",
		"a" + strings.Repeat("b", 31), "a" + strings.Repeat("b", 32)}
	for _, f := range []Family{Debian, Ubuntu, Fedora, RHEL, Arch} {
		r := Info{Family: f}.UserNameRule()
		re := regexp.MustCompile(r.Pattern)
		for _, n := range names {
			if got, want := r.Match(n), re.MatchString(n); got != want {
				t.Errorf("%s: Match(%q) = %v, %s says %v", f, n, got, r.Pattern, want)
			}
			if got, want := r.Valid(n), re.MatchString(n) && len(n) <= 32; got != want {
				t.Errorf("%s: Valid(%q) = %v, want %v", f, n, got, want)
			}
		}
	}
	if (Info{Family: Debian}).UserNameRule().Match("_svc") || !(Info{Family: Fedora}).UserNameRule().Match("_svc") {
		t.Error("Debian must refuse _svc (adduser NAME_REGEX), Fedora accept it (useradd)")
	}
}
