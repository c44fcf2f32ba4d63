package firstboot

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/hardbake/hardbake/bootstrap/profile"
	"github.com/hardbake/hardbake/bootstrap/runner"
	"github.com/hardbake/hardbake/bootstrap/steps"
	"github.com/hardbake/hardbake/internal/testroot"
)

func accountsEnv(t *testing.T, files map[string]string) *steps.Env {
	t.Helper()
	files["etc/os-release"] = "ID=debian\n"
	r, d := testroot.Open(t, testroot.Files(t, files))
	return &steps.Env{Root: r, Run: &runner.Recorder{}, Distro: d, Profile: profile.Default()}
}

// TestLookupAccountAndGroups: the first well-formed entry of a name wins
// (as getpwnam/getgrnam), short lines, comments and lines with a bad uid are
// no entries, groups come in /etc/group's order.
func TestLookupAccountAndGroups(t *testing.T) {
	env := accountsEnv(t, map[string]string{
		"etc/passwd": "root:x:0:0:root:/root:/bin/bash\n#alice:x:1:1::/nope:/bin/sh\nalice:x:1000\n" +
			"alice:x:1000:1001:Alice:/home/alice:/bin/bash\nalice:x:2000:2000::/other:/bin/sh\nbad:x:u:g::/h:/bin/sh\n",
		"etc/group": "root:x:0:\nsudo:x:27:bob,alice\nadm:x:4\nusers:x:100:alice\nwheel:x:10:bob\nsudo:x:28:carol\n",
	})
	acct, err := lookupAccount(env.Root, "alice")
	if err != nil || !reflect.DeepEqual(acct, &account{Name: "alice", UID: 1000, GID: 1001, Home: "/home/alice", Shell: "/bin/bash"}) {
		t.Errorf("alice: %+v %v", acct, err)
	}
	if acct, err := lookupAccount(env.Root, "nobody"); acct != nil || err != nil {
		t.Errorf("nobody: %+v %v", acct, err)
	}
	if acct, err := lookupAccount(env.Root, "bad"); acct != nil || err != nil {
		t.Errorf("bad uid accepted: %+v %v", acct, err)
	}
	if got := groupsOf(env.Root, "alice"); !reflect.DeepEqual(got, []string{"sudo", "users"}) {
		t.Errorf("alice's groups: %q", got)
	}
	// carol is only in a second "sudo" line, which getgrnam never returns.
	if got := groupsOf(env.Root, "carol"); got != nil {
		t.Errorf("carol's groups: %q", got)
	}
}

// TestAnyAuthorizedKey: first boot's answer to "can someone log in with a
// key" on every root of the ssh step's key-login cases is the one the case
// names, which the bake's lockout guard is held to as well
// (steps.TestKeyLoginCases): the same files, the same answers.
func TestAnyAuthorizedKey(t *testing.T) {
	const cases = "../steps/testdata/keylogin"
	entries, err := os.ReadDir(cases)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range entries {
		want := strings.HasPrefix(e.Name(), "yes-")
		if !want && !strings.HasPrefix(e.Name(), "no-") {
			continue // base
		}
		n++
		t.Run(e.Name(), func(t *testing.T) {
			dir := testroot.Copy(t, filepath.Join(cases, "base"))
			if err := os.CopyFS(dir, os.DirFS(filepath.Join(cases, e.Name()))); err != nil {
				t.Fatal(err)
			}
			r, d := testroot.Open(t, dir)
			env := &steps.Env{Root: r, Run: &runner.Recorder{}, Distro: d, Profile: profile.Default()}
			if got := anyAuthorizedKey(env); got != want {
				t.Errorf("anyAuthorizedKey = %v, want %v", got, want)
			}
		})
	}
	if n < 10 {
		t.Fatalf("only %d cases in %s", n, cases)
	}
}
