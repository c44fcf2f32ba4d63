package distro

import (
	"regexp"
	"strings"
	"testing"
)

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
