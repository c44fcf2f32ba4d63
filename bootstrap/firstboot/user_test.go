package firstboot

import (
	"reflect"
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

// TestLookupAccountAndGroups: the first full entry of a name wins (as
// getpwnam/getgrnam), short lines and comments are no entries, groups come
// in /etc/group's order.
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
	if _, err := lookupAccount(env.Root, "bad"); err == nil {
		t.Error("bad uid accepted")
	}
	if got := groupsOf(env.Root, "alice"); !reflect.DeepEqual(got, []string{"sudo", "users"}) {
		t.Errorf("alice's groups: %q", got)
	}
	// carol is only in a second "sudo" line, which getgrnam never returns.
	if got := groupsOf(env.Root, "carol"); got != nil {
		t.Errorf("carol's groups: %q", got)
	}
}

// TestAnyAuthorizedKey: a login account's non-empty key file counts; a
// nologin account's, a comment's or a NIS compat line's do not.
func TestAnyAuthorizedKey(t *testing.T) {
	passwd := "root:x:0:0:root:/root:/bin/bash\nsvc:x:999:999::/srv:/usr/sbin/nologin\n#old:x:5:5::/old:/bin/bash\n+::::::\n"
	for name, c := range map[string]struct {
		files map[string]string
		want  bool
	}{
		"none":    {map[string]string{}, false},
		"empty":   {map[string]string{"root/.ssh/authorized_keys": ""}, false},
		"root":    {map[string]string{"root/.ssh/authorized_keys2": "k\n"}, true},
		"nologin": {map[string]string{"srv/.ssh/authorized_keys": "k\n"}, false},
		"comment": {map[string]string{"old/.ssh/authorized_keys": "k\n"}, false},
		"nis":     {map[string]string{".ssh/authorized_keys": "k\n"}, false},
	} {
		c.files["etc/passwd"] = passwd
		if got := anyAuthorizedKey(accountsEnv(t, c.files)); got != c.want {
			t.Errorf("%s: %v, want %v", name, got, c.want)
		}
	}
}
