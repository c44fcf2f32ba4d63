package steps

import (
	"context"
	"reflect"
	"strings"
	"testing"

	"github.com/hardbake/hardbake/bootstrap/distro"
	"github.com/hardbake/hardbake/bootstrap/profile"
	"github.com/hardbake/hardbake/bootstrap/root"
	"github.com/hardbake/hardbake/bootstrap/runner"
	"github.com/hardbake/hardbake/bootstrap/sshdconfig"
	"github.com/hardbake/hardbake/internal/testroot"
)

func fixture(t testing.TB, files map[string]string) *Env {
	t.Helper()
	r, d := testroot.Open(t, testroot.Files(t, files))
	// A recorder: fixture roots have no binaries to run.
	return &Env{Root: r, Run: &runner.Recorder{}, Distro: d, Profile: profile.Default()}
}

func effective(t *testing.T, env *Env) map[string][]string {
	t.Helper()
	eff, err := sshdconfig.Load(env.Root, SSHDConfig)
	if err != nil {
		t.Fatal(err)
	}
	return offlineSSHD(eff)
}

const debianInclude = "Include /etc/ssh/sshd_config.d/*.conf\n\n#Port 22\nKbdInteractiveAuthentication no\nUsePAM yes\nX11Forwarding yes\nSubsystem sftp /usr/lib/openssh/sftp-server\n"

// TestSSHPlacement: whatever order the starting files are in, the result
// wins; the managed block is always written, and the drop-in too whenever
// sshd_config includes sshd_config.d.
func TestSSHPlacement(t *testing.T) {
	cases := []struct {
		name    string
		files   map[string]string
		dropIn  bool
		profile string
		want    map[string]string
	}{
		{"debian with cloud-init drop-in", map[string]string{
			"etc/os-release":                           "ID=debian\nVERSION_ID=12\n",
			"etc/ssh/sshd_config":                      debianInclude,
			"etc/ssh/sshd_config.d/50-cloud-init.conf": "PasswordAuthentication yes\n",
		}, true, "", map[string]string{"passwordauthentication": "no", "permitrootlogin": "no", "x11forwarding": "no"}},
		{"ubuntu cloud image settings", map[string]string{
			"etc/os-release":      "ID=ubuntu\nID_LIKE=debian\nVERSION_ID=\"24.04\"\n",
			"etc/ssh/sshd_config": debianInclude,
			"etc/ssh/sshd_config.d/60-cloudimg-settings.conf": "PasswordAuthentication no\n",
		}, true, "", map[string]string{"passwordauthentication": "no", "kbdinteractiveauthentication": "no"}},
		{"root login before include", map[string]string{
			"etc/os-release":      "ID=debian\n",
			"etc/ssh/sshd_config": "PermitRootLogin yes\n" + debianInclude,
		}, true, "", map[string]string{"permitrootlogin": "no"}},
		{"root with keys only", map[string]string{
			"etc/os-release":      "ID=debian\n",
			"etc/ssh/sshd_config": debianInclude,
		}, true, "ssh:\n  permit_root_login: prohibit-password\n", map[string]string{"permitrootlogin": "without-password"}},
		{"a drop-in sorting before ours", map[string]string{
			"etc/os-release":                  "ID=debian\n",
			"etc/ssh/sshd_config":             debianInclude,
			"etc/ssh/sshd_config.d/00-a.conf": "PasswordAuthentication yes\n",
		}, true, "", map[string]string{"passwordauthentication": "no"}},
		{"arch without include", map[string]string{
			"etc/os-release":      "ID=arch\n",
			"etc/ssh/sshd_config": "#Port 22\nPasswordAuthentication yes\nSubsystem sftp /usr/lib/ssh/sftp-server\n",
		}, false, "ssh:\n  address_family: inet6\n", map[string]string{"passwordauthentication": "no", "addressfamily": "inet6"}},
		{"fedora 50-redhat", map[string]string{
			"etc/os-release":                       "ID=fedora\nVERSION_ID=41\n",
			"etc/ssh/sshd_config":                  "Include /etc/ssh/sshd_config.d/*.conf\nAuthorizedKeysFile .ssh/authorized_keys\nSubsystem sftp /usr/libexec/openssh/sftp-server\n",
			"etc/ssh/sshd_config.d/50-redhat.conf": "Include /etc/crypto-policies/back-ends/opensshserver.config\nSyslogFacility AUTHPRIV\nChallengeResponseAuthentication no\nGSSAPIAuthentication yes\nX11Forwarding yes\nUsePAM yes\n",
		}, true, "", map[string]string{"x11forwarding": "no", "kbdinteractiveauthentication": "no"}},
		{"ports replace other Port lines", map[string]string{
			"etc/os-release":                     "ID=debian\n",
			"etc/ssh/sshd_config":                "Port 2222\n" + debianInclude,
			"etc/ssh/sshd_config.d/10-port.conf": "Port 8022\n",
		}, true, "ssh:\n  ports: [22, 2200]\n", map[string]string{"port": "22 2200"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			env := fixture(t, c.files)
			if c.profile != "" {
				p, err := profile.Parse([]byte(c.profile))
				if err != nil {
					t.Fatal(err)
				}
				env.Profile = p
			}
			ctx := context.Background()
			if _, err := (SSH{}).Apply(ctx, env); err != nil {
				t.Fatal(err)
			}
			got := effective(t, env)
			for k, v := range c.want {
				if strings.Join(got[k], " ") != v {
					t.Errorf("%s = %v, want %s", k, got[k], v)
				}
			}
			if env.Root.Exists(SSHDropIn) != c.dropIn {
				t.Errorf("drop-in used = %v, want %v", !c.dropIn, c.dropIn)
			}
			// The block is always there (scanners read only sshd_config), and
			// it says what the drop-in says, but the lines that add up
			// across files.
			main, _ := env.Root.ReadFile(SSHDConfig)
			if !strings.Contains(string(main), sshdconfig.BlockBegin) {
				t.Errorf("no managed block:\n%s", main)
			}
			if c.dropIn {
				drop, _ := env.Root.ReadFile(SSHDropIn)
				for _, l := range strings.Split(strings.TrimSpace(string(drop)), "\n")[1:] {
					if !accumulates(l) && !strings.Contains(string(main), "\n"+l+"\n") {
						t.Errorf("drop-in line %q is not in the block:\n%s", l, main)
					}
					if accumulates(l) && strings.Contains(string(main), "\n"+l+"\n") {
						t.Errorf("%q is in the block and the drop-in", l)
					}
				}
			}
			// Idempotent: nothing left to do.
			if actions, err := (SSH{}).Plan(ctx, env); err != nil || len(actions) != 0 {
				t.Fatalf("second plan not empty: %v %+v", err, actions)
			}
			checks, err := (SSH{}).Check(ctx, env)
			if err != nil {
				t.Fatal(err)
			}
			for _, ch := range checks {
				if ch.Failed() { // the fixtures have no package database: ssh.crypto is a warning
					t.Errorf("check %s: want %s got %s", ch.ID, ch.Want, ch.Got)
				}
			}
		})
	}
}

func TestSSHPlanChangesNothing(t *testing.T) {
	env := fixture(t, map[string]string{"etc/os-release": "ID=debian\n", "etc/ssh/sshd_config": "PermitRootLogin yes\n"})
	before, _ := env.Root.ReadFile(SSHDConfig)
	actions, err := (SSH{}).Plan(context.Background(), env)
	if err != nil || len(actions) == 0 {
		t.Fatalf("%v %v", actions, err)
	}
	after, _ := env.Root.ReadFile(SSHDConfig)
	if string(before) != string(after) {
		t.Fatal("plan wrote")
	}
	if !strings.Contains(actions[0].Change().Diff, "+PermitRootLogin no") {
		t.Fatalf("diff: %s", actions[0].Change().Diff)
	}
}

func TestSSHMissingConfig(t *testing.T) {
	env := fixture(t, map[string]string{"etc/os-release": "ID=arch\n"})
	_, err := (SSH{}).Plan(context.Background(), env)
	if err == nil || !strings.Contains(err.Error(), "is openssh installed?") {
		t.Fatalf("got %v", err)
	}
}

func TestReloadCommands(t *testing.T) {
	cmds := func(d distro.Info) []string {
		var out []string
		for _, a := range reloadSSH(d) {
			out = append(out, a.Cmd.String())
		}
		return out
	}
	cases := []struct {
		d    distro.Info
		want []string
	}{
		{distro.Info{SSHService: "ssh", ServiceManager: distro.Systemd}, []string{"systemctl try-reload-or-restart ssh.service"}},
		{distro.Info{SSHService: "sshd", ServiceManager: distro.Systemd}, []string{"systemctl try-reload-or-restart sshd.service"}},
		{distro.Info{SSHService: "ssh", SSHSocket: "ssh.socket", ServiceManager: distro.Systemd},
			[]string{"systemctl daemon-reload", "systemctl try-restart ssh.socket", "systemctl try-reload-or-restart ssh.service"}},
		{distro.Info{SSHService: "ssh", ServiceManager: distro.SysV}, []string{"service ssh try-restart"}},
		{distro.Info{SSHService: "sshd", ServiceManager: distro.OpenRC}, []string{"rc-service sshd reload"}},
	}
	for _, c := range cases {
		if got := cmds(c.d); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%+v: got %v want %v", c.d, got, c.want)
		}
	}
}

func TestLockoutGuard(t *testing.T) {
	const key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl alice@example\n"
	base := map[string]string{
		"etc/os-release":      "ID=debian\n",
		"etc/ssh/sshd_config": "PasswordAuthentication yes\n",
		"etc/passwd":          "root:x:0:0:root:/root:/bin/bash\nalice:x:1000:1000::/home/alice:/bin/bash\nsvc:x:999:999::/srv:/usr/sbin/nologin\n",
	}
	with := func(extra map[string]string) map[string]string {
		m := map[string]string{}
		for k, v := range base {
			m[k] = v
		}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}
	guard := func(env *Env) error { return lockoutGuard(env, loginGroups{}) }
	if err := guard(fixture(t, base)); err == nil || !strings.Contains(err.Error(), "--force") {
		t.Fatalf("no keys anywhere: %v", err)
	}
	if err := guard(fixture(t, with(map[string]string{"root/.ssh/authorized_keys": key}))); err == nil {
		t.Fatal("root's key counted although root may not log in")
	}
	if err := guard(fixture(t, with(map[string]string{"srv/.ssh/authorized_keys": key}))); err == nil {
		t.Fatal("a nologin account's key counted")
	}
	if err := guard(fixture(t, with(map[string]string{"home/alice/.ssh/authorized_keys": "garbage\n"}))); err == nil {
		t.Fatal("an unparsable key counted")
	}
	if err := guard(fixture(t, with(map[string]string{"home/alice/.ssh/authorized_keys": "# comment\n" + key}))); err != nil {
		t.Fatalf("alice has a key: %v", err)
	}
	if err := guard(fixture(t, with(map[string]string{"etc/ssh/sshd_config": "PasswordAuthentication no\n"}))); err != nil {
		t.Fatalf("passwords already off: %v", err)
	}
	if err := guard(fixture(t, with(map[string]string{
		"etc/ssh/sshd_config": "AuthorizedKeysFile /etc/ssh/keys/%u\n",
		"etc/ssh/keys/alice":  key,
	}))); err != nil {
		t.Fatalf("AuthorizedKeysFile with %%u: %v", err)
	}

	// AllowGroups: the members of the listed groups must include an
	// account with a key, and the user running hardbake through sudo.
	alice := with(map[string]string{"home/alice/.ssh/authorized_keys": key, "etc/group": "sudo:x:27:\nalice:x:1000:\n"})
	groups := func(env *Env) error { return lockoutGuard(env, loginGroupsOf(env)) }
	if err := groups(fixture(t, alice)); err == nil || !strings.Contains(err.Error(), "AllowGroups sudo") {
		t.Fatalf("AllowGroups sudo, alice not in sudo: %v", err)
	}
	alice["etc/group"] = "sudo:x:27:alice\nalice:x:1000:\n"
	if err := groups(fixture(t, alice)); err != nil {
		t.Fatalf("alice is in sudo: %v", err)
	}
	alice["etc/passwd"] += "packer:x:1001:1001::/home/packer:/bin/bash\n"
	alice["etc/group"] += "packer:x:1001:\n"
	t.Setenv("SUDO_USER", "packer")
	if err := groups(fixture(t, alice)); err == nil || !strings.Contains(err.Error(), "packer") {
		t.Fatalf("packer runs hardbake and is not in sudo: %v", err)
	}
	env := fixture(t, alice)
	env.Profile.Seal.RemoveUser = "packer"
	if err := groups(env); err != nil {
		t.Fatalf("packer is the build user (seal.remove_user): %v", err)
	}
	if got := loginGroupsOf(env).directive(); got != "AllowGroups sudo packer" {
		t.Fatalf("build user's group: %q", got)
	}
	// Sealed: the user and its group are gone; the line stays the same, so
	// a second bake and first boot change nothing.
	sealed := fixture(t, with(map[string]string{"etc/group": "sudo:x:27:alice\n"}))
	sealed.Profile.Seal.RemoveUser = "packer"
	if got := loginGroupsOf(sealed).directive(); got != "AllowGroups sudo packer" {
		t.Fatalf("after the seal: %q", got)
	}
	// A build user whose primary group is shared is not let in by it.
	shared := with(map[string]string{"etc/group": "sudo:x:27:alice\nusers:x:100:\n"})
	shared["etc/passwd"] += "packer:x:1001:100::/home/packer:/bin/bash\n"
	env = fixture(t, shared)
	env.Profile.Seal.RemoveUser = "packer"
	if g := loginGroupsOf(env); g.directive() != "AllowGroups sudo" || g.Shared != "users" {
		t.Fatalf("shared primary group: %+v", g)
	}
	if err := groups(env); err == nil || !strings.Contains(err.Error(), "packer") {
		t.Fatalf("packer (primary group users) runs hardbake and may not log in: %v", err)
	}
}

// TestManagedBlockCheck: a block an upgrade (or an admin) removed from
// sshd_config fails the check although the drop-in keeps sshd -T hardened.
func TestManagedBlockCheck(t *testing.T) {
	env := fixture(t, map[string]string{"etc/os-release": "ID=debian\n", "etc/ssh/sshd_config": debianInclude})
	ctx := context.Background()
	if _, err := (SSH{}).Apply(ctx, env); err != nil {
		t.Fatal(err)
	}
	directives, _, _, err := SSH{}.settings(ctx, env)
	if err != nil {
		t.Fatal(err)
	}
	if c := managedBlockCheck(env, directives); !c.OK {
		t.Fatalf("after the bake: %+v", c)
	}
	if err := env.Root.WriteFile(SSHDConfig, []byte(debianInclude), 0o600, root.RootOwner); err != nil {
		t.Fatal(err)
	}
	if c := managedBlockCheck(env, directives); c.OK || c.Got != "missing" {
		t.Fatalf("without the block: %+v", c)
	}
	if got := effective(t, env)["permitrootlogin"]; strings.Join(got, "") != "no" {
		t.Fatalf("the drop-in alone: permitrootlogin %v", got)
	}
}

func TestSSHTime(t *testing.T) {
	for in, want := range map[string]int{"30": 30, "30s": 30, "1m": 60, "1h30m": 5400, "2M": 120} {
		if got, err := sshTime(in); err != nil || got != want {
			t.Errorf("%s: %d %v", in, got, err)
		}
	}
	if _, err := sshTime("1x"); err == nil {
		t.Error("1x accepted")
	}
}

func TestUnifiedDiff(t *testing.T) {
	d := UnifiedDiff("/f", []byte("a\nb\nc\n"), []byte("a\nB\nc\n"))
	want := "--- a/f\n+++ b/f\n@@ -1,3 +1,3 @@\n a\n-b\n+B\n c\n"
	if d != want {
		t.Fatalf("got\n%s\nwant\n%s", d, want)
	}
	if d := UnifiedDiff("/f", nil, []byte("x\n")); !strings.Contains(d, "--- /dev/null") || !strings.Contains(d, "@@ -0,0 +1,1 @@\n+x") {
		t.Fatalf("new file: %s", d)
	}
}
