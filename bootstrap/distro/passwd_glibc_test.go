package distro_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/hardbake/hardbake/bootstrap/distro"
	"github.com/hardbake/hardbake/bootstrap/runner"
	"github.com/hardbake/hardbake/internal/testroot"
)

// Lines appended to a real Debian 12 root's /etc/passwd and /etc/group, each
// one a way a line can be odd. glibc (getpwnam, getgrnam: what sshd, sudo
// and login see) is the judge of which are entries and what they hold. Not
// here: a shell or member holding ':' (glibc finds the entry, getent cannot
// print it; passwd_test.go pins it).
const (
	oddPasswd = `#hidden:x:1:1::/h:/bin/sh
short:x:5
short:x:1101:1101::/home/short:/bin/sh
badid:x:u:1::/bad:/bin/sh
badid:x:1102:1102::/home/badid:/bin/sh
dup:x:1103:1103::/one:/bin/sh
dup:x:1104:1104::/two:/bin/sh
emptyshell:x:1106:1106:::
nogecos:x:1112:1112
nohome:x:1113:1113:g
noshell:x:1114:1114:g:/h
neg:x:-1:1::/h:/bin/sh
big:x:4294967296:1::/h:/bin/sh
largest:x:4294967295:1::/h:/bin/sh
hex:x:0x10:1::/h:/bin/sh
spaced:x: 12:1::/h:/bin/sh
trailing:x:12 :1::/h:/bin/sh
plus:x:+13:1::/h:/bin/sh
  indent:x:1107:1107::/h:/bin/sh
	tab:x:1108:1108::/h:/bin/sh
 #spacedcomment:x:1:1::/h:/bin/sh
emptyuid:x::1::/h:/bin/sh
:x:1115:1115::/h:/bin/sh
+::::::
+nis::::::
-nisout::::::
+nisfull:x:1110:1110::/h:/bin/sh
-root:x:0:0::/h:/bin/sh
`
	oddGroup = `g1:x:2001:a,b,,c
g2:x:2002: a, b ,c
g4:x: 2004:
g5:x:2005
g5:x:2006:z
  g6:x:2007:q
g7:x:-1:
g8:x
+g9:::
-sudo:::
dupg:x:2010:a
dupg:x:2011:b
`
)

// TestParsePasswdAgainstGlibc: for every name the files mention, glibc's
// getent finds an entry exactly when LookupUser/LookupGroup does, with the
// same fields; and the real root's files, enumerated, are ParsePasswd's and
// ParseGroup's lists, in order.
func TestParsePasswdAgainstGlibc(t *testing.T) {
	if testing.Short() {
		t.Skip("real Debian root: not in -short")
	}
	dir := testroot.Debian(t, "bookworm")
	run := runner.Exec{Chroot: dir}
	for _, db := range []struct{ file, odd string }{{"passwd", oddPasswd}, {"group", oddGroup}} {
		p := filepath.Join(dir, "etc", db.file)
		real, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		// getent DB with no key enumerates every entry, in file order.
		if got, want := getent(t, run, db.file), format(db.file, string(real)); !slices.Equal(got, want) {
			t.Errorf("%s of a real Debian 12 root:\nglibc %q\nours  %q", db.file, got, want)
		}

		text := string(real) + db.odd
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		var keys []string
		for _, line := range strings.Split(db.odd, "\n") {
			name, _, _ := strings.Cut(strings.TrimLeft(line, " \t"), ":")
			keys = append(keys, name, strings.TrimLeft(name, "+-#"))
		}
		keys = slices.DeleteFunc(slices.Compact(keys), func(k string) bool { return k == "" })
		found := map[string]string{}
		for _, line := range getent(t, run, append([]string{"--", db.file}, keys...)...) {
			name, _, _ := strings.Cut(line, ":")
			found[name] = line
		}
		ours := map[string]string{}
		for _, line := range format(db.file, text) {
			name, _, _ := strings.Cut(line, ":")
			ours[name] = line
		}
		for _, k := range keys {
			if found[k] != ours[k] {
				t.Errorf("%s %q: glibc %q, ours %q", db.file, k, found[k], ours[k])
			}
		}
	}
}

// getent runs the root's getent; exit 2 (a key not found) is an answer.
func getent(t *testing.T, run runner.Runner, args ...string) []string {
	t.Helper()
	res, err := run.Run(context.Background(), runner.Cmd{Name: "getent", Args: args})
	var ee *runner.ExitError
	if err != nil && !(errors.As(err, &ee) && ee.Result.ExitCode == 2) {
		t.Fatalf("getent %q: %v %s", args, err, res.Stderr)
	}
	return strings.Split(strings.TrimSuffix(string(res.Stdout), "\n"), "\n")
}

// format prints the entries of text the way getent does ("x" stands for
// every password field: the odd lines all have one).
func format(db, text string) []string {
	var out []string
	if db == "passwd" {
		for _, e := range distro.ParsePasswd(text) {
			out = append(out, fmt.Sprintf("%s:x:%d:%d:%s:%s:%s", e.Name, e.UID, e.GID, e.Gecos, e.Home, e.Shell))
		}
		return out
	}
	for _, g := range distro.ParseGroup(text) {
		out = append(out, fmt.Sprintf("%s:x:%d:%s", g.Name, g.GID, strings.Join(g.Members, ",")))
	}
	return out
}
