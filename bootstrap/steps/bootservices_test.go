package steps

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/hardbake/hardbake/bootstrap/distro"
)

// sysvEnv is the debian12 fixture as if its /sbin/init were sysvinit's
// (or OpenRC's): what Detect reports for such roots (distro_test.go).
func sysvEnv(t *testing.T, sm distro.ServiceManager) *Env {
	t.Helper()
	env, _ := goldenEnv(t, "debian12", "", nil)
	env.Distro.ServiceManager = sm
	return env
}

func link(t *testing.T, env *Env, p string) {
	t.Helper()
	host := env.Root.HostPath(p)
	if err := os.MkdirAll(filepath.Dir(host), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("../init.d/x", host); err != nil {
		t.Fatal(err)
	}
}

func TestEnableActionPerServiceManager(t *testing.T) {
	cases := []struct {
		sm    distro.ServiceManager
		units []string
		want  string
	}{
		{distro.Systemd, []string{"fail2ban.service"}, "systemctl enable fail2ban.service"},
		{distro.Systemd, []string{"fail2ban.service", "nftables.service"}, "systemctl enable fail2ban.service nftables.service"},
		{distro.SysV, []string{"fail2ban.service"}, "update-rc.d fail2ban defaults"},
		{distro.SysV, []string{"nftables.service"}, "update-rc.d hardbake-nftables defaults"},
		{distro.SysV, []string{FirstbootUnitName}, "update-rc.d hardbake-firstboot defaults"},
		// Both timers are cron's job without systemd: enabled once.
		{distro.SysV, []string{"apt-daily.timer", "apt-daily-upgrade.timer"}, "update-rc.d cron defaults"},
		{distro.SysV, []string{"fail2ban.service", "rsyslog.service"}, `sh -c "update-rc.d fail2ban defaults && update-rc.d rsyslog defaults"`},
		{distro.OpenRC, []string{"fail2ban.service"}, "rc-update add fail2ban default"},
		{distro.OpenRC, []string{"nftables.service"}, "rc-update add nftables default"},
	}
	for _, c := range cases {
		env := sysvEnv(t, c.sm)
		a := enableAction(env, "s", c.units...)
		if a == nil {
			t.Errorf("%s %v: nothing planned, want %s", c.sm, c.units, c.want)
			continue
		}
		if got := a.Cmd.String(); got != c.want && !(strings.HasPrefix(c.want, "sh -c") && strings.Join(a.Cmd.Args, " ") == "-c "+strings.Trim(c.want[6:], `"`)) {
			t.Errorf("%s %v: %s, want %s", c.sm, c.units, got, c.want)
		}
	}
}

func TestUnitEnabledSysVLinks(t *testing.T) {
	env := sysvEnv(t, distro.SysV)
	if unitEnabled(env, "fail2ban.service") {
		t.Fatal("enabled without links")
	}
	// Another script whose name ends the same is not fail2ban.
	link(t, env, "/etc/rc2.d/S01hardbake-fail2ban")
	link(t, env, "/etc/rc0.d/K01fail2ban")
	if unitEnabled(env, "fail2ban.service") {
		t.Error("a stop link or another script's start link counted as enabled")
	}
	link(t, env, "/etc/rc2.d/S03fail2ban")
	if !unitEnabled(env, "fail2ban.service") || enableAction(env, "s", "fail2ban.service") != nil {
		t.Error("S03fail2ban in rc2.d: not enabled")
	}
	// Scripts of the boot sequence live in rcS.d.
	link(t, env, "/etc/rcS.d/S05hardbake-nftables")
	if !unitEnabled(env, "nftables.service") {
		t.Error("hardbake-nftables in rcS.d: not enabled")
	}
	// The systemd symlinks Debian's maintainer scripts leave on SysV roots
	// do not count.
	env2 := sysvEnv(t, distro.SysV)
	link(t, env2, "/etc/systemd/system/multi-user.target.wants/ssh.service")
	if unitEnabled(env2, "ssh.service") {
		t.Error("a systemd wants link counted on SysV")
	}
	env3 := sysvEnv(t, distro.OpenRC)
	link(t, env3, "/etc/runlevels/default/fail2ban")
	if !unitEnabled(env3, "fail2ban.service") {
		t.Error("OpenRC runlevel link: not enabled")
	}
}

func TestInitScriptActions(t *testing.T) {
	env := sysvEnv(t, distro.SysV)
	text := nftablesInitScriptText("/etc/nftables.conf")
	actions, err := initScriptActions(env, NftablesInitName, text, "script", "enable")
	if err != nil {
		t.Fatal(err)
	}
	if got := Changes(actions); len(got) != 2 || got[0].Path != NftablesInitScript || got[1].Command != "update-rc.d hardbake-nftables defaults" {
		t.Fatalf("plan %+v", got)
	}
	if actions[0].Mode != 0o755 {
		t.Errorf("mode %v", actions[0].Mode)
	}
	if _, err := Execute(context.Background(), env, actions[:1]); err != nil {
		t.Fatal(err)
	}
	// Installed but not linked: only update-rc.d.
	again, _ := initScriptActions(env, NftablesInitName, text, "script", "enable")
	if len(again) != 1 || again[0].Kind != "run" {
		t.Errorf("plan after writing %+v", Changes(again))
	}
	link(t, env, "/etc/rcS.d/S04hardbake-nftables")
	if again, _ := initScriptActions(env, NftablesInitName, text, "script", "enable"); len(again) != 0 {
		t.Errorf("plan when installed and linked %+v", Changes(again))
	}
	// A changed header must reach insserv again.
	os.WriteFile(env.Root.HostPath(NftablesInitScript), []byte("#!/bin/sh\n"), 0o755)
	if c := initScriptCheck(env, "id", NftablesInitName, text); c.OK || c.Got != "differs from this hardbake's" {
		t.Errorf("check of an edited script: %+v", c)
	}
	if again, _ := initScriptActions(env, NftablesInitName, text, "script", "enable"); len(again) != 2 {
		t.Errorf("plan after an edit %+v", Changes(again))
	}
	for _, want := range []string{"# Default-Start:     S\n", "# X-Start-Before:    $network networking ifupdown\n", "NFT=/usr/sbin/nft\nCONF=/etc/nftables.conf\n"} {
		if !strings.Contains(text, want) {
			t.Errorf("script lacks %q", want)
		}
	}
}

func TestFirewallPlanSysV(t *testing.T) {
	env := sysvEnv(t, distro.SysV)
	actions, err := Firewall{}.configure(context.Background(), env)
	if err != nil {
		t.Fatal(err)
	}
	var plan []string
	for _, c := range Changes(actions) {
		plan = append(plan, c.Kind+" "+c.Path+c.Command)
	}
	got := strings.Join(plan, "\n")
	for _, want := range []string{"write " + NftablesInitScript, "run update-rc.d hardbake-nftables defaults"} {
		if !strings.Contains(got, want) {
			t.Errorf("plan lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "systemctl") {
		t.Errorf("systemctl on SysV:\n%s", got)
	}
}

func TestFail2banWithoutJournal(t *testing.T) {
	env := sysvEnv(t, distro.SysV)
	s, err := Fail2ban{}.settings(context.Background(), env)
	if err != nil {
		t.Fatal(err)
	}
	jail := sshdJail(s)
	for _, want := range []string{"backend = pyinotify\n", "logpath = /var/log/auth.log\n"} {
		if !strings.Contains(jail, want) {
			t.Errorf("jail lacks %q:\n%s", want, jail)
		}
	}
	if strings.Contains(jail, "journalmatch") || strings.Contains(jail, "systemd") {
		t.Errorf("journal settings without a journal:\n%s", jail)
	}
	pkgs := strings.Join(fail2banPackages(env.Distro, "nftables")[0], " ")
	if pkgs != "fail2ban python3-pyinotify rsyslog orphan-sysvinit-scripts nftables" {
		t.Errorf("packages %q", pkgs)
	}
	// rsyslog's init script comes with orphan-sysvinit-scripts whichever
	// step installs rsyslog first (logging runs before fail2ban).
	if got := strings.Join(Logging{}.packages(env)[0], " "); got != "rsyslog logrotate orphan-sysvinit-scripts" {
		t.Errorf("logging packages under SysV %q", got)
	}
	// systemd keeps the journal.
	sd := sysvEnv(t, distro.Systemd)
	if got := strings.Join(Logging{}.packages(sd)[0], " "); got != "rsyslog logrotate" {
		t.Errorf("logging packages under systemd %q", got)
	}
	s2, _ := Fail2ban{}.settings(context.Background(), sd)
	if j := sshdJail(s2); !strings.Contains(j, "backend = systemd\n") || strings.Contains(j, "logpath") {
		t.Errorf("systemd jail:\n%s", j)
	}

	// The auth log is created root:adm 0640 when missing, left alone otherwise.
	os.WriteFile(env.Root.HostPath("/etc/group"), []byte("root:x:0:\nadm:x:4:\n"), 0o644)
	a := authLogAction(env, "/var/log/auth.log")
	if a == nil || a.Owner.GID != 4 || a.Mode != 0o640 || len(a.Data) != 0 {
		t.Fatalf("auth log action %+v", a)
	}
	if _, err := Execute(context.Background(), env, []Action{*a}); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(env.Root.HostPath("/var/log/auth.log"))
	if err != nil || fi.Mode().Perm() != 0o640 || fi.Size() != 0 {
		t.Fatalf("auth log: %v %v", fi, err)
	}
	os.WriteFile(env.Root.HostPath("/var/log/auth.log"), []byte("sshd[1]: kept\n"), 0o640)
	if authLogAction(env, "/var/log/auth.log") != nil {
		t.Error("an existing auth log would be replaced")
	}
}

func TestSealSysV(t *testing.T) {
	env := sysvEnv(t, distro.SysV)
	os.WriteFile(env.Root.HostPath("/etc/machine-id"), []byte("0123456789abcdef0123456789abcdef\n"), 0o444)
	os.MkdirAll(env.Root.HostPath("/var/lib/urandom"), 0o755)
	os.WriteFile(env.Root.HostPath(sysvRandomSeed), []byte("seed"), 0o600)
	actions, err := Seal{}.Plan(context.Background(), env)
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]string{}
	for _, a := range actions {
		kinds[a.Path] = a.Kind
		if a.Cmd.Name == "systemctl" {
			t.Errorf("systemctl on SysV: %s", a.Cmd)
		}
	}
	if kinds["/etc/machine-id"] != "remove" || kinds[sysvRandomSeed] != "remove" {
		t.Errorf("plan %v", kinds)
	}
	if _, err := (Seal{}).Apply(context.Background(), env); err != nil {
		t.Fatal(err)
	}
	checks, _ := Seal{}.Check(context.Background(), env)
	for _, c := range checks {
		if (c.ID == "seal.machine_id" || c.ID == "seal.random_seed") && !c.OK {
			t.Errorf("%s: want %s, got %s", c.ID, c.Want, c.Got)
		}
	}
	// Sealed without a machine-id, a second seal does not create an empty one.
	again, _ := Seal{}.Plan(context.Background(), env)
	for _, a := range again {
		if a.Path == "/etc/machine-id" {
			t.Errorf("second seal: %s %s", a.Kind, a.Path)
		}
	}
}

// TestSealHostname: sealing names the image localhost and drops the build
// machine's 127.0.1.1 line; seal.keep_hostname keeps both.
func TestSealHostname(t *testing.T) {
	hosts := "127.0.0.1\tlocalhost\n127.0.1.1\tbuild-42.example.com build-42\n::1\tlocalhost ip6-localhost ip6-loopback\n# 127.0.1.1 build-42 (a comment stays)\n"
	for _, keep := range []bool{false, true} {
		env := sysvEnv(t, distro.Systemd)
		env.Profile.Seal.KeepHostname = keep
		os.WriteFile(env.Root.HostPath("/etc/hostname"), []byte("build-42\n"), 0o644)
		os.WriteFile(env.Root.HostPath("/etc/hosts"), []byte(hosts), 0o644)
		if _, err := (Seal{}).Apply(context.Background(), env); err != nil {
			t.Fatal(err)
		}
		name, _ := os.ReadFile(env.Root.HostPath("/etc/hostname"))
		got, _ := os.ReadFile(env.Root.HostPath("/etc/hosts"))
		wantName, wantHosts := "localhost\n", "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n# 127.0.1.1 build-42 (a comment stays)\n"
		if keep {
			wantName, wantHosts = "build-42\n", hosts
		}
		if string(name) != wantName || string(got) != wantHosts {
			t.Errorf("keep_hostname %v: /etc/hostname %q, /etc/hosts:\n%s", keep, name, got)
		}
		checks, _ := Seal{}.Check(context.Background(), env)
		for _, c := range checks {
			if c.ID == "seal.hostname" && !c.OK {
				t.Errorf("keep_hostname %v: %+v", keep, c)
			}
		}
		// Sealed once, nothing left to do.
		again, _ := Seal{}.Plan(context.Background(), env)
		for _, a := range again {
			if a.Path == "/etc/hostname" || a.Path == "/etc/hosts" {
				t.Errorf("keep_hostname %v: second seal plans %s %s", keep, a.Kind, a.Path)
			}
		}
	}
	// A machine that keeps a name fails the check of an image that should not.
	env := sysvEnv(t, distro.Systemd)
	os.WriteFile(env.Root.HostPath("/etc/hostname"), []byte("web-1\n"), 0o644)
	checks, _ := Seal{}.Check(context.Background(), env)
	for _, c := range checks {
		if c.ID == "seal.hostname" && (c.OK || c.Got != "web-1") {
			t.Errorf("named machine: %+v", c)
		}
	}
}

// TestSealDeferredUserRemoval: a build user still logged in is removed at
// first boot by a systemd unit, or on SysV by an init script ordered before
// ssh that removes itself; no systemctl on SysV.
func TestSealDeferredUserRemoval(t *testing.T) {
	for _, sm := range []distro.ServiceManager{distro.Systemd, distro.SysV} {
		env := sysvEnv(t, sm)
		ops := deferredUserRemoval(env, &Account{Name: "packer", UID: 1000, Home: "/home/packer"})
		var cmds, writes []string
		for _, op := range ops {
			switch op.Kind {
			case "run":
				cmds = append(cmds, strings.Join(op.Cmd, " "))
			case "write":
				writes = append(writes, op.Path)
				if sm == distro.SysV && (op.Mode != 0o755 || !strings.Contains(string(op.Data), "X-Start-Before:    ssh") ||
					!strings.Contains(string(op.Data), "userdel -r packer") || !strings.Contains(string(op.Data), "update-rc.d -f hardbake-remove-build-user remove")) {
					t.Errorf("SysV script %o:\n%s", op.Mode, op.Data)
				}
			}
		}
		want := []string{"usermod --lock packer", "systemctl enable hardbake-remove-build-user.service"}
		wantWrite := []string{buildUserUnit}
		if sm == distro.SysV {
			want = []string{"usermod --lock packer", "update-rc.d hardbake-remove-build-user defaults"}
			wantWrite = []string{buildUserScript}
		}
		if !slices.Equal(cmds, want) || !slices.Equal(writes, wantWrite) {
			t.Errorf("%v: runs %q writes %q, want %q %q", sm, cmds, writes, want, wantWrite)
		}
		// Applied, it is pending: the check says so and a second seal adds nothing.
		for _, op := range ops {
			if op.Kind == "write" {
				os.MkdirAll(filepath.Dir(env.Root.HostPath(op.Path)), 0o755)
				os.WriteFile(env.Root.HostPath(op.Path), op.Data, 0o755)
			}
		}
		if !buildUserRemovalPending(env) || deferredUserRemoval(env, &Account{Name: "packer", Home: "/home/packer"}) != nil {
			t.Errorf("%v: not pending after the first seal", sm)
		}
	}
}
