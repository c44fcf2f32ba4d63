package steps

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/hardbake/hardbake/bootstrap/distro"
	"github.com/hardbake/hardbake/bootstrap/profile"
	"github.com/hardbake/hardbake/bootstrap/runner"
	"github.com/hardbake/hardbake/internal/testroot"
)

// KeyLoginCases are the roots testdata/keylogin holds: each directory but
// base is laid over a copy of base, and its name says whether someone can
// log in with a key ("yes-…", "no-…"). First boot's tests read the same
// directories, so the bake's guard and first boot are held to the same
// answers on the same files.
const keyLoginCases = "testdata/keylogin"

// keyLoginRoot is case laid over base in a new temporary root.
func keyLoginRoot(t *testing.T, cases, name string) string {
	t.Helper()
	dir := testroot.Copy(t, filepath.Join(cases, "base"))
	// CopyFS makes missing directories and refuses to overwrite a file, so
	// a case cannot silently replace base's passwd or sshd_config.
	if err := os.CopyFS(dir, os.DirFS(filepath.Join(cases, name))); err != nil {
		t.Fatal(err)
	}
	return dir
}

// keyLoginCaseNames lists the cases and the answer each name gives.
func keyLoginCaseNames(t *testing.T, cases string) map[string]bool {
	t.Helper()
	entries, err := os.ReadDir(cases)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for _, e := range entries {
		switch {
		case strings.HasPrefix(e.Name(), "yes-"):
			out[e.Name()] = true
		case strings.HasPrefix(e.Name(), "no-"):
			out[e.Name()] = false
		case e.Name() != "base":
			t.Fatalf("%s: a case's name starts with yes- or no-", e.Name())
		}
	}
	if len(out) < 10 {
		t.Fatalf("only %d cases in %s", len(out), cases)
	}
	return out
}

// TestKeyLoginCases: FindKeyLogin under the root's own sshd settings, and
// the bake's lockout guard (passwords are on in base, so it asks), give
// each case's answer.
func TestKeyLoginCases(t *testing.T) {
	for name, want := range keyLoginCaseNames(t, keyLoginCases) {
		t.Run(name, func(t *testing.T) {
			r, d := testroot.Open(t, keyLoginRoot(t, keyLoginCases, name))
			env := &Env{Root: r, Run: &runner.Recorder{}, Distro: d, Profile: profile.Default()}
			way, ok, err := BakedKeyLogin(env)
			if err != nil || ok != want {
				t.Errorf("BakedKeyLogin = %v %v %v, want %v", way, ok, err, want)
			}
			if err := lockoutGuard(env, loginGroups{}); (err == nil) != want {
				t.Errorf("lockout guard: %v, want a way in: %v", err, want)
			}
		})
	}
}

// TestFindKeyLoginSays: the way in found is the first account in
// /etc/passwd's order with a key, and names the file.
func TestFindKeyLoginSays(t *testing.T) {
	const key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl alice@example\n"
	r, _ := testroot.Open(t, testroot.Files(t, map[string]string{
		"etc/os-release":                  "ID=debian\n",
		"etc/passwd":                      "root:x:0:0:root:/root:/bin/bash\nzed:x:1001:1001::/home/zed:/bin/sh\nalice:x:1000:1000::/home/alice:/bin/bash\n",
		"root/.ssh/authorized_keys":       key,
		"home/zed/.ssh/authorized_keys2":  key,
		"home/alice/.ssh/authorized_keys": key,
	}))
	for _, c := range []struct {
		k    KeyAuth
		want KeyLogin
	}{
		{KeyAuth{PermitRootLogin: "no"}, KeyLogin{"zed", "/home/zed/.ssh/authorized_keys2"}},
		{KeyAuth{}, KeyLogin{"root", "/root/.ssh/authorized_keys"}}, // sshd's default lets root's key in
		{KeyAuth{PermitRootLogin: "prohibit-password"}, KeyLogin{"root", "/root/.ssh/authorized_keys"}},
		{KeyAuth{PermitRootLogin: "No", AuthorizedKeysFile: []string{".ssh/authorized_keys"}}, KeyLogin{"alice", "/home/alice/.ssh/authorized_keys"}},
		{KeyAuth{PermitRootLogin: "no", AuthorizedKeysCommand: "/usr/bin/sss_ssh_authorizedkeys"}, KeyLogin{"", "AuthorizedKeysCommand /usr/bin/sss_ssh_authorizedkeys"}},
	} {
		got, ok, err := FindKeyLogin(r, c.k)
		if err != nil || !ok || got != c.want {
			t.Errorf("%+v: %+v %v %v, want %+v", c.k, got, ok, err, c.want)
		}
	}
	for _, k := range []KeyAuth{
		{PermitRootLogin: "no", AuthorizedKeysFile: []string{"none"}},
		{PermitRootLogin: "no", AuthorizedKeysFile: []string{"/etc/ssh/keys/%u"}},
		{PermitRootLogin: "no", AuthorizedKeysFile: []string{"none"}, AuthorizedKeysCommand: "none"},
	} {
		if got, ok, err := FindKeyLogin(r, k); ok || err != nil {
			t.Errorf("%+v: %+v %v %v, want no way in", k, got, ok, err)
		}
	}
	empty, _ := testroot.Open(t, testroot.Files(t, map[string]string{"etc/os-release": "ID=debian\n"}))
	if _, ok, err := FindKeyLogin(empty, KeyAuth{}); ok || err == nil {
		t.Errorf("no /etc/passwd: %v %v, want an error", ok, err)
	}
}

// TestKeyFiles: AuthorizedKeysFile's tokens as sshd's
// expand_authorized_keys expands them.
func TestKeyFiles(t *testing.T) {
	alice := distro.PasswdEntry{Name: "alice", UID: 1000, Home: "/home/alice"}
	for _, c := range []struct {
		patterns []string
		want     []string
	}{
		{nil, []string{"/home/alice/.ssh/authorized_keys", "/home/alice/.ssh/authorized_keys2"}},
		{[]string{"/etc/ssh/keys/%u"}, []string{"/etc/ssh/keys/alice"}},
		{[]string{"%h/.ssh/k_%U"}, []string{"/home/alice/.ssh/k_1000"}},
		{[]string{"keys/%u%%"}, []string{"/home/alice/keys/alice%"}},
		{[]string{"%%h/%%u"}, []string{"/home/alice/%h/%u"}},
		{[]string{"none", ".ssh/a", "NONE"}, []string{"/home/alice/.ssh/a"}},
		{[]string{"../shared/%u"}, []string{"/home/shared/alice"}},
	} {
		if got := (KeyAuth{AuthorizedKeysFile: c.patterns}).keyFiles(alice); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%q: %q, want %q", c.patterns, got, c.want)
		}
	}
	// An empty home: sshd's "%s/%s" makes the path absolute.
	if got := (KeyAuth{}).keyFiles(distro.PasswdEntry{Name: "x"}); got[0] != "/.ssh/authorized_keys" {
		t.Errorf("empty home: %q", got)
	}
}
