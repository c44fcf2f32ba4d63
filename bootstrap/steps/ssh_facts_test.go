package steps

import (
	"context"
	"encoding/json"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/hardbake/hardbake/bootstrap/profile"
	"github.com/hardbake/hardbake/bootstrap/root"
	"github.com/hardbake/hardbake/bootstrap/runner"
)

// sshdCalls lists the sshd commands the recorder saw, as "-V", "-t -o", "-T".
func sshdCalls(rec *runner.Recorder) []string {
	var out []string
	for _, c := range rec.Commands {
		if c.Name != SSHDBinary || len(c.Args) == 0 {
			continue
		}
		s := c.Args[0]
		if slices.Contains(c.Args, "-o") {
			s += " -o"
		}
		out = append(out, s)
	}
	return out
}

// TestSSHDFactsReusedForSameBinary: the facts the firstboot step records at
// bake answer the ssh step's `sshd -V` and algorithm probe while the sshd
// binary is byte for byte the one asked; a changed binary, a facts file
// about another binary and a broken file are asked again.
func TestSSHDFactsReusedForSameBinary(t *testing.T) {
	const banner = "OpenSSH_9.2p1 Debian-2+deb12u3, OpenSSL 3.0.15 3 Sep 2024"
	env := fixture(t, map[string]string{
		"etc/os-release":               "ID=debian\nVERSION_ID=12\n",
		"etc/ssh/sshd_config":          debianInclude,
		"etc/ssh/sshd_config.d/.keep":  "",
		"etc/ssh/ssh_host_ed25519_key": "k",
		"usr/sbin/sshd":                "an sshd binary, build 1",
	})
	rec := &runner.Recorder{Responses: map[string]runner.Result{"/usr/sbin/sshd -V": {Stderr: []byte(banner + "\n")}}}
	env.Run = rec
	ctx := context.Background()
	plan := func() []string {
		t.Helper()
		rec.Commands = nil
		if _, err := (SSH{}).Plan(ctx, env); err != nil {
			t.Fatal(err)
		}
		return sshdCalls(rec)
	}
	if got := plan(); !slices.Equal(got, []string{"-V", "-t -o"}) {
		t.Fatalf("without facts: sshd calls %v, want -V and one probe", got)
	}

	a, err := sshdFactsAction(ctx, env)
	if err != nil || a == nil {
		t.Fatalf("facts action: %v %v", a, err)
	}
	if _, err := Execute(ctx, env, []Action{*a}); err != nil {
		t.Fatal(err)
	}
	var f SSHDFacts
	data, _ := env.Root.ReadFile(SSHDFactsFile)
	if err := json.Unmarshal(data, &f); err != nil {
		t.Fatalf("%v\n%s", err, data)
	}
	if f.Banner != banner || len(f.SHA256) != 64 || len(f.Accepted["KexAlgorithms"]) == 0 || len(f.Accepted["HostKeyAlgorithms"]) == 0 {
		t.Fatalf("facts: %+v", f)
	}
	if again, err := sshdFactsAction(ctx, env); err != nil || again != nil {
		t.Errorf("recording again changes the file: %+v %v", again, err)
	}
	withFacts := plan()
	if len(withFacts) != 0 {
		t.Errorf("with facts for this binary: sshd calls %v, want none", withFacts)
	}

	// The drop-in is the same either way.
	actions, err := (SSH{}).Plan(ctx, env)
	if err != nil {
		t.Fatal(err)
	}
	var drop string
	for _, a := range actions {
		if a.Path == SSHDropIn {
			drop = string(a.Data)
		}
	}
	if !strings.Contains(drop, "KexAlgorithms "+strings.Join(f.Accepted["KexAlgorithms"], ",")+"\n") {
		t.Errorf("drop-in does not use the recorded lists:\n%s", drop)
	}

	// A profile asking for names the facts do not cover is probed.
	p, err := profile.Parse([]byte("ssh:\n  host_key_types: [ed25519, rsa]\n"))
	if err != nil {
		t.Fatal(err)
	}
	saved := env.Profile
	env.Profile = p
	if got := plan(); !slices.Equal(got, []string{"-t -o"}) {
		t.Errorf("names the facts lack: sshd calls %v, want only the probe", got)
	}
	env.Profile = saved

	// An upgraded binary: asked again.
	if err := env.Root.WriteFile(SSHDBinary, []byte("an sshd binary, build 2"), 0o755, root.RootOwner); err != nil {
		t.Fatal(err)
	}
	if got := plan(); !slices.Equal(got, []string{"-V", "-t -o"}) {
		t.Errorf("after the binary changed: sshd calls %v, want -V and a probe", got)
	}

	// Facts for another binary, and a broken file: ignored.
	for _, bad := range []string{strings.Replace(string(data), f.SHA256, strings.Repeat("0", 64), 1), "{not json"} {
		if err := os.WriteFile(env.Root.HostPath(SSHDFactsFile), []byte(bad), 0o644); err != nil {
			t.Fatal(err)
		}
		if got := plan(); !slices.Equal(got, []string{"-V", "-t -o"}) {
			t.Errorf("facts %.40q: sshd calls %v, want -V and a probe", bad, got)
		}
	}
}

// TestSSHDFactsNotRecordedUnaccepted: lists sshd refused are not recorded as
// accepted (the banner is), so first boot probes them itself.
func TestSSHDFactsNotRecordedUnaccepted(t *testing.T) {
	env := fixture(t, map[string]string{
		"etc/os-release":      "ID=debian\nVERSION_ID=12\n",
		"etc/ssh/sshd_config": debianInclude,
		"usr/sbin/sshd":       "an sshd binary",
	})
	env.Run = &runner.Recorder{Responses: map[string]runner.Result{
		"/usr/sbin/sshd -V": {Stderr: []byte("OpenSSH_9.2p1, OpenSSL 3.0.15\n")},
		"/usr/sbin/sshd -t": {ExitCode: 255, Stderr: []byte("/etc/ssh/sshd_config line 3: Bad SSH2 KexAlgorithms 'x'.\n")},
	}}
	a, err := sshdFactsAction(context.Background(), env)
	if err != nil || a == nil {
		t.Fatalf("%v %v", a, err)
	}
	var f SSHDFacts
	if err := json.Unmarshal(a.Data, &f); err != nil {
		t.Fatal(err)
	}
	if f.Banner == "" || len(f.Accepted) != 0 {
		t.Errorf("facts: %+v", f)
	}
}

// TestSSHDFactsIdentity: facts whose file identity still matches the binary
// are taken without hashing it (shown with a sha256 that cannot match);
// after a file-level copy (new inode) the sha256 decides.
func TestSSHDFactsIdentity(t *testing.T) {
	env := fixture(t, map[string]string{"etc/os-release": "ID=debian\n", "usr/sbin/sshd": "an sshd binary", "var/lib/hardbake/.keep": ""})
	sum, err := sshdBinarySum(env)
	if err != nil {
		t.Fatal(err)
	}
	write := func(f SSHDFacts) {
		t.Helper()
		data, _ := json.Marshal(f)
		if err := env.Root.WriteFile(SSHDFactsFile, data, 0o644, root.RootOwner); err != nil {
			t.Fatal(err)
		}
	}
	base := SSHDFacts{Binary: SSHDBinary, Banner: "OpenSSH_9.2p1", SHA256: sum, File: fileID(env, SSHDBinary)}
	if base.File == nil {
		t.Fatal("no file identity on a directory root")
	}
	for _, c := range []struct {
		name string
		edit func(*SSHDFacts)
		ok   bool
	}{
		{"identity and sum match", func(*SSHDFacts) {}, true},
		{"identity matches, sum is another binary's", func(f *SSHDFacts) { f.SHA256 = strings.Repeat("0", 64) }, true},
		{"identity moved, sum matches (a copy)", func(f *SSHDFacts) { f.File = &FileID{Inode: f.File.Inode + 1, Size: f.File.Size} }, true},
		{"no identity recorded, sum matches", func(f *SSHDFacts) { f.File = nil }, true},
		{"identity moved, sum differs", func(f *SSHDFacts) {
			f.File = &FileID{Inode: f.File.Inode + 1}
			f.SHA256 = strings.Repeat("0", 64)
		}, false},
	} {
		f := base
		id := *base.File
		f.File = &id
		c.edit(&f)
		write(f)
		if _, ok := recordedSSHDFacts(env); ok != c.ok {
			t.Errorf("%s: taken = %v, want %v", c.name, ok, c.ok)
		}
	}
}
