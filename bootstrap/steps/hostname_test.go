package steps

import (
	"errors"
	"os"
	"testing"

	"github.com/hardbake/hardbake/bootstrap/root"
)

// fakeHostname replaces the running host name for a test: the machine the
// tests run on is never renamed.
func fakeHostname(t *testing.T, name string) *[]string {
	t.Helper()
	var set []string
	oldCur, oldSet := currentHostname, sethostname
	t.Cleanup(func() { currentHostname, sethostname = oldCur, oldSet })
	currentHostname = func() (string, error) { return name, nil }
	sethostname = func(b []byte) error {
		set = append(set, string(b))
		name = string(b)
		return nil
	}
	return &set
}

// TestSetRunningHostname: a live system takes the name once; an image or a
// chroot never; a refusal is an error.
func TestSetRunningHostname(t *testing.T) {
	live, err := root.Dir("/")
	if err != nil {
		t.Fatal(err)
	}
	if !live.IsLive() {
		t.Fatal("root / is not live")
	}
	set := fakeHostname(t, "build-42")
	env := &Env{Root: live}
	c, err := SetRunningHostname(env, "localhost")
	if err != nil || c == nil || c.Command != "sethostname localhost" || len(*set) != 1 || (*set)[0] != "localhost" {
		t.Fatalf("live: change %+v, err %v, set %q", c, err, *set)
	}
	if c, err := SetRunningHostname(env, "localhost"); c != nil || err != nil || len(*set) != 1 {
		t.Fatalf("live, already named: change %+v, err %v, set %q", c, err, *set)
	}

	chroot := &Env{Root: &root.Root{Dir: t.TempDir()}}
	if c, err := SetRunningHostname(chroot, "web-1"); c != nil || err != nil || len(*set) != 1 {
		t.Fatalf("chroot: change %+v, err %v, set %q", c, err, *set)
	}

	sethostname = func([]byte) error { return errors.New("operation not permitted") }
	if _, err := SetRunningHostname(env, "web-1"); err == nil {
		t.Fatal("a refused sethostname is not an error")
	}
}

// TestSealRunningHostname: a live seal also renames the running machine
// (after the files, so sudo finds the new name in /etc/hosts); an image's
// seal does not, nor does one that keeps the name.
func TestSealRunningHostname(t *testing.T) {
	env, _ := goldenEnv(t, "debian12", "", nil)
	write := func(p, text string) {
		if err := os.WriteFile(env.Root.HostPath(p), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("/etc/hostname", "build-42\n")
	write("/etc/hosts", "127.0.0.1\tlocalhost\n127.0.1.1\tbuild-42\n")
	for _, live := range []bool{false, true} {
		ops := hostnameOps(env.Root, live)
		var kinds []string
		for _, op := range ops {
			kinds = append(kinds, op.Kind)
		}
		want := []string{"write", "write"}
		if live {
			want = append(want, "sethostname")
		}
		if len(kinds) != len(want) {
			t.Fatalf("live %v: ops %q, want %q", live, kinds, want)
		}
		for i := range want {
			if kinds[i] != want[i] {
				t.Fatalf("live %v: ops %q, want %q", live, kinds, want)
			}
		}
		if live {
			a := ops[2].action(env)
			if a.Kind != "run" || a.Cmd.String() != "sethostname localhost" {
				t.Errorf("live: action %s %s", a.Kind, a.Cmd)
			}
		}
	}
	// An image whose name is already localhost has nothing to rename.
	write("/etc/hostname", "localhost\n")
	if ops := hostnameOps(env.Root, true); len(ops) != 0 {
		t.Errorf("unnamed image: %d ops", len(ops))
	}
}

func TestHostsLine(t *testing.T) {
	cases := []struct{ in, name, want string }{
		{"127.0.0.1\tlocalhost\n127.0.1.1\tdebian\n::1\tlocalhost\n", "web-1.example.com",
			"127.0.0.1\tlocalhost\n127.0.1.1\tweb-1.example.com web-1\n::1\tlocalhost\n"},
		{"# admin\n127.0.0.1 localhost\n::1 localhost\n", "db", "# admin\n127.0.0.1 localhost\n127.0.1.1\tdb\n::1 localhost\n"},
		{"", "db", "127.0.1.1\tdb\n"},
	}
	for _, c := range cases {
		if got := hostsLine(c.in, c.name); got != c.want {
			t.Errorf("hostsLine(%q, %q) = %q, want %q", c.in, c.name, got, c.want)
		}
		if again := hostsLine(c.want, c.name); again != c.want {
			t.Errorf("not idempotent: %q", again)
		}
	}
}
