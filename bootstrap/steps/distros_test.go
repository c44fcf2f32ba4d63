package steps

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/hardbake/hardbake/bootstrap"
	"github.com/hardbake/hardbake/bootstrap/distro"
	"github.com/hardbake/hardbake/bootstrap/ini"
	"github.com/hardbake/hardbake/bootstrap/report"
	"github.com/hardbake/hardbake/bootstrap/root"
	"github.com/hardbake/hardbake/bootstrap/runner"
)

// TestFixtureDistroFacts: what the table says for each fixture root, read
// from the distribution's own os-release.
func TestFixtureDistroFacts(t *testing.T) {
	type facts struct {
		family                          distro.Family
		group, service, socket, pkg, fw string
		autoUpdates                     string
	}
	want := map[string]facts{
		"debian12":   {distro.Debian, "sudo", "ssh", "", "apt", "nftables", "unattended-upgrades"},
		"ubuntu2204": {distro.Ubuntu, "sudo", "ssh", "", "apt", "nftables", "unattended-upgrades"}, // ships ssh.socket, but 22.04 does not use it
		"ubuntu2404": {distro.Ubuntu, "sudo", "ssh", "ssh.socket", "apt", "nftables", "unattended-upgrades"},
		"fedora41":   {distro.Fedora, "wheel", "sshd", "", "dnf", "firewalld", "dnf-automatic"},
		"rocky9":     {distro.RHEL, "wheel", "sshd", "", "dnf", "firewalld", "dnf-automatic"},
		"centos9":    {distro.RHEL, "wheel", "sshd", "", "dnf", "firewalld", "dnf-automatic"},
		"alma9":      {distro.RHEL, "wheel", "sshd", "", "dnf", "firewalld", "dnf-automatic"},
		"arch":       {distro.Arch, "wheel", "sshd", "", "pacman", "nftables", ""},
	}
	for name, w := range want {
		r, err := root.Dir(filepath.Join("testdata/roots", name))
		if err != nil {
			t.Fatal(err)
		}
		d, err := distro.Detect(r)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		got := facts{d.Family, d.AdminGroup, d.SSHService, d.SSHSocket, d.PackageManager, d.Firewall, d.AutoUpdates}
		if got != w {
			t.Errorf("%s: got %+v, want %+v", name, got, w)
		}
	}
}

// TestSocketActivationReachesSocket: on Ubuntu >= 22.10 a port or address
// family change must reach ssh.socket (its ListenStream is generated from
// sshd_config): daemon-reload reruns the generator, then the socket is
// restarted. The socket is never masked or disabled (that breaks release
// upgrades). 22.04 ships ssh.socket unused: only the service is reloaded.
func TestSocketActivationReachesSocket(t *testing.T) {
	for name, want := range map[string][]string{
		"ubuntu2404": {"systemctl daemon-reload", "systemctl try-restart ssh.socket", "systemctl try-reload-or-restart ssh.service"},
		"ubuntu2204": {"systemctl try-reload-or-restart ssh.service"},
	} {
		env, _ := goldenEnv(t, name, "ssh:\n  ports: [2222]\n  address_family: inet\n", nil)
		actions, err := SSH{}.Plan(context.Background(), env)
		if err != nil {
			t.Fatal(err)
		}
		var wrote string
		for _, a := range actions {
			if a.Kind == "write" {
				wrote += string(a.Data)
			}
		}
		if !strings.Contains(wrote, "Port 2222") || !strings.Contains(wrote, "AddressFamily inet") {
			t.Errorf("%s: the ssh step does not write the port and family the socket generator reads:\n%s", name, wrote)
		}
		var got []string
		for _, a := range reloadSSH(env.Distro) {
			got = append(got, a.Cmd.String())
			if slices.Contains(a.Cmd.Args, "mask") || slices.Contains(a.Cmd.Args, "disable") || slices.Contains(a.Cmd.Args, "stop") {
				t.Errorf("%s: %s would break socket activation or upgrades", name, a.Cmd)
			}
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s: reload plan %q, want %q", name, got, want)
		}
	}
}

// TestArchSSHDConfigWithoutInclude: Arch's sshd_config has no Include, so
// a drop-in would never be read; the managed block goes into sshd_config.
func TestArchSSHDConfigWithoutInclude(t *testing.T) {
	env, _ := goldenEnv(t, "arch", "", nil)
	main, _ := env.Root.ReadFile(SSHDConfig)
	if strings.Contains(strings.ToLower(string(main)), "include") {
		t.Fatalf("fixture sshd_config has an Include")
	}
	actions, err := SSH{}.Plan(context.Background(), env)
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	for _, a := range actions {
		paths = append(paths, a.Path)
	}
	if !slices.Contains(paths, SSHDConfig) || slices.Contains(paths, SSHDropIn) {
		t.Errorf("want the managed block in %s and no drop-in, got writes to %q", SSHDConfig, paths)
	}
	if env.Distro.SSHService != "sshd" {
		t.Errorf("service %q", env.Distro.SSHService)
	}
}

func TestSELinuxPresent(t *testing.T) {
	for name, want := range map[string]bool{"centos9": true, "alma9": true, "rocky9": false, "debian12": false, "arch": false} {
		r, err := root.Dir(filepath.Join("testdata/roots", name))
		if err != nil {
			t.Fatal(err)
		}
		if got := SELinuxPresent(r); got != want {
			t.Errorf("%s: SELinuxPresent = %v, want %v", name, got, want)
		}
	}
	env, _ := goldenEnv(t, "centos9", "", nil)
	os.WriteFile(env.Root.HostPath(SELinuxConfig), []byte("# comment\nSELINUX=disabled\nSELINUXTYPE=targeted\n"), 0o644)
	if SELinuxPresent(env.Root) {
		t.Errorf("SELINUX=disabled counts as present")
	}
}

func TestPortLabels(t *testing.T) {
	out := "http_cache_port_t              tcp      8080, 8118, 8123, 10001-10010\nssh_port_t                     tcp      22\nephemeral_port_t               udp      32768-60999\n"
	got := portLabels(out, []int{8080, 10005, 22, 2222, 40000})
	want := map[int]string{8080: "http_cache_port_t", 10005: "http_cache_port_t", 22: "ssh_port_t"}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("port %d: %q, want %q", k, got[k], v)
		}
	}
}

// TestSELinuxSSHPort: a non-22 port gets the ssh_port_t label before sshd
// is reloaded: -a when unlabelled, -m when another type owns it, nothing
// when labelled already or without SELinux.
func TestSELinuxSSHPort(t *testing.T) {
	cases := []struct {
		name, fixture, prof, list string
		semanage                  bool
		want                      []string
	}{
		{"unlabelled", "centos9", "ssh:\n  ports: [2222]\n", "ssh_port_t tcp 22\n", true,
			[]string{"semanage port -a -t ssh_port_t -p tcp 2222"}},
		{"other type", "alma9", "ssh:\n  ports: [8080]\n", "http_cache_port_t tcp 8080, 8118\nssh_port_t tcp 22\n", true,
			[]string{"semanage port -m -t ssh_port_t -p tcp 8080"}},
		{"labelled already", "centos9", "ssh:\n  ports: [2222]\n", "ssh_port_t tcp 2222, 22\n", true, nil},
		{"port 22", "centos9", "ssh:\n  ports: [22]\n", "", true, nil},
		{"no semanage yet", "centos9", "ssh:\n  ports: [2222]\n", "", false,
			[]string{"install " + semanagePackage, "semanage port -a -t ssh_port_t -p tcp 2222"}},
		{"no SELinux", "rocky9", "ssh:\n  ports: [2222]\n", "", true, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			env, _ := goldenEnv(t, c.fixture, c.prof, map[string]runner.Result{
				"semanage port -l": {Stdout: []byte(c.list)},
				"rpm -q --qf '%{NAME}\\n' " + semanagePackage: {ExitCode: 1},
			})
			if c.semanage {
				os.MkdirAll(env.Root.HostPath("/usr/sbin"), 0o755)
				os.WriteFile(env.Root.HostPath("/usr/sbin/semanage"), []byte("#!/bin/sh\n"), 0o755)
			}
			actions, err := SSH{}.Plan(context.Background(), env)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, a := range actions {
				switch {
				case a.Cmd.Name == "semanage":
					got = append(got, a.Cmd.String())
				case slices.Contains(a.Cmd.Args, semanagePackage):
					got = append(got, "install "+semanagePackage)
				}
			}
			if !slices.Equal(got, c.want) {
				t.Errorf("got %q, want %q", got, c.want)
			}
		})
	}
}

// applySSH runs the ssh step on a fixture copy (no sshd there: nothing to
// validate with, nothing reloaded under --root).
func applySSH(t *testing.T, env *Env) {
	t.Helper()
	if _, err := (SSH{}).Apply(context.Background(), env); err != nil {
		t.Fatal(err)
	}
}

// TestFirewalldOpensEffectivePort: Fedora/RHEL use firewalld, opened on
// the port sshd will listen on after the ssh step, not on 22.
func TestFirewalldOpensEffectivePort(t *testing.T) {
	for _, name := range []string{"fedora41", "centos9", "alma9"} {
		env, _ := goldenEnv(t, name, "ssh:\n  ports: [2222]\n", map[string]runner.Result{
			"rpm -q":                            {ExitCode: 1, Stdout: []byte("package x is not installed\n")},
			"firewall-offline-cmd --query-port": {ExitCode: 1},
			"dnf ":                              {}, // the fixture's installs succeed
			"semanage ":                         {},
		})
		applySSH(t, env)
		actions, err := Firewall{}.Plan(context.Background(), env)
		if err != nil {
			t.Fatal(err)
		}
		var cmds []string
		for _, a := range actions {
			if a.Kind == "run" || a.Kind == "validate" {
				cmds = append(cmds, a.Cmd.String())
			}
		}
		if !slices.Contains(cmds, "firewall-offline-cmd --add-port=2222/tcp") || slices.Contains(cmds, "firewall-offline-cmd --add-port=22/tcp") {
			t.Errorf("%s: firewalld plan %q does not open exactly the effective port 2222", name, cmds)
		}
	}
}

// TestArchStockFilterTable: Arch's stock /etc/nftables.conf drops all but
// port 22 in its own table; with a custom SSH port the firewall step comments
// that table out (a managed, reversible edit), the result passes nft -c, and
// a second run changes nothing. A drop table that is not stock is refused.
func TestArchStockFilterTable(t *testing.T) {
	// nft -c answers yes here (the fixture has no nft); the real nft judges
	// hardbake's table in TestNftablesRulesetLoads and whole files on the
	// Debian roots.
	env, _ := goldenEnv(t, "arch", "ssh:\n  ports: [2222]\n", map[string]runner.Result{"systemctl enable": {}, "nft -c": {}})
	applySSH(t, env)
	actions, err := Firewall{}.Plan(context.Background(), env)
	if err != nil {
		t.Fatal(err)
	}
	var main, rules []byte
	for _, a := range actions {
		switch a.Path {
		case "/etc/nftables.conf":
			main = a.Data
		case NftablesRules:
			rules = a.Data
		}
	}
	if !strings.Contains(string(main), nftDisabledPrefix+"table inet filter {") || !strings.Contains(string(rules), "tcp dport { 2222 }") {
		t.Fatalf("stock table not neutralised or port missing:\n%s\n%s", main, rules)
	}
	if got := otherDropTables(string(main)); got != "none" {
		t.Errorf("after the edit: %s", got)
	}
	if got := otherDropTables(mustRead(t, "testdata/roots/arch/etc/nftables.conf")); got == "none" {
		t.Errorf("audit does not see the stock drop table")
	}
	if restoreNftDisabled(string(main)) != withNftInclude(mustRead(t, "testdata/roots/arch/etc/nftables.conf")) {
		t.Errorf("the edit is not reversible")
	}
	if _, err := Execute(context.Background(), env, actions); err != nil {
		t.Fatal(err)
	}
	again, err := Firewall{}.Plan(context.Background(), env)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range again {
		if a.Kind == "write" {
			t.Errorf("second run rewrites %s", a.Path)
		}
	}
	// The kernel judges the result (nft -c checks and aborts the transaction).
	if nft, err := exec.LookPath("nft"); err == nil && os.Geteuid() == 0 {
		dir := t.TempDir()
		os.WriteFile(filepath.Join(dir, "hardbake.nft"), rules, 0o644)
		text := strings.Replace(string(main), NftablesRules, filepath.Join(dir, "hardbake.nft"), 1)
		// Debian 12's nft (1.0.6) predates "destroy" (1.0.8; Arch ships
		// 1.1): leave that line of Arch's file to Arch's nft.
		text = strings.Replace(text, "destroy table inet filter\n", "", 1)
		os.WriteFile(filepath.Join(dir, "nftables.conf"), []byte(text), 0o644)
		if out, err := exec.Command(nft, "-c", "-f", filepath.Join(dir, "nftables.conf")).CombinedOutput(); err != nil {
			t.Errorf("nft -c rejects the edited Arch ruleset: %v\n%s", err, out)
		}
	}

	custom := strings.Replace(mustRead(t, "testdata/roots/arch/etc/nftables.conf"), "tcp dport ssh accept", "tcp dport { ssh, 443 } accept", 1)
	if _, _, err := neutraliseStockFilter("/etc/nftables.conf", custom); !errors.Is(err, bootstrap.ErrInvalid) || !strings.Contains(err.Error(), "/etc/nftables.conf:8: table inet filter drops inbound traffic by policy") {
		t.Errorf("an admin's drop table: %v", err)
	}
	os.WriteFile(env.Root.HostPath("/etc/nftables.conf"), []byte(custom), 0o755)
	if err := (Firewall{}).Preflight(context.Background(), env); !errors.Is(err, bootstrap.ErrInvalid) {
		t.Errorf("preflight lets an admin's drop table through: %v", err)
	}
	debian := mustRead(t, "testdata/roots/debian12/etc/nftables.conf")
	if out, changed, err := neutraliseStockFilter("/etc/nftables.conf", debian); err != nil || changed || out != debian {
		t.Errorf("Debian's accept-policy table was touched: %v %v", changed, err)
	}
}

func mustRead(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// TestDnf5AutomaticOverrides: on Fedora ≥ 41 dnf5's plugin takes its
// defaults from /usr/share/dnf5/dnf5-plugins/automatic.conf (as shipped:
// upgrade_type = default, apply_updates = no), and its host overrides from
// /etc/dnf/automatic.conf or, on older dnf5, /etc/dnf/dnf5-plugins. The
// check reads the effective value; the step sets both override files when
// the older one exists, so whichever the installed dnf5 reads says security.
func TestDnf5AutomaticOverrides(t *testing.T) {
	ctx := context.Background()
	env, _ := goldenEnv(t, "fedora41", "", map[string]runner.Result{"rpm -q": {ExitCode: 1, Stdout: []byte("package x is not installed\n")}, "dnf ": {}, "systemctl enable": {}})
	value := func(checks []report.Check, id string) report.Check {
		t.Helper()
		for _, c := range checks {
			if c.ID == id {
				return c
			}
		}
		t.Fatalf("no check %s in %+v", id, checks)
		return report.Check{}
	}

	before, err := Updates{}.Check(ctx, env)
	if err != nil {
		t.Fatal(err)
	}
	c := value(before, "updates.dnf_automatic.upgrade_type")
	if c.OK || c.Got != "default" || c.Detail != "/usr/share/dnf5/dnf5-plugins/automatic.conf" {
		t.Errorf("stock Fedora 41: upgrade_type check = %+v, want got=default from the shipped defaults", c)
	}

	legacy := "/etc/dnf/dnf5-plugins/automatic.conf"
	if err := os.MkdirAll(env.Root.HostPath("/etc/dnf/dnf5-plugins"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := env.Root.WriteFile(legacy, []byte("[commands]\nupgrade_type = default\napply_updates = yes\n"), 0o644, root.RootOwner); err != nil {
		t.Fatal(err)
	}
	actions, err := Updates{}.Plan(ctx, env)
	if err != nil {
		t.Fatal(err)
	}
	var written []string
	for _, a := range actions {
		if a.Kind == "write" {
			written = append(written, a.Path)
		}
	}
	if !slices.Equal(written, []string{"/etc/dnf/automatic.conf", legacy}) {
		t.Fatalf("files written = %q, want both override files", written)
	}
	if _, err := Execute(ctx, env, actions); err != nil {
		t.Fatal(err)
	}
	after, err := Updates{}.Check(ctx, env)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"updates.dnf_automatic.upgrade_type", "updates.dnf_automatic.apply_updates", "updates.dnf_automatic.legacy_upgrade_type"} {
		if c := value(after, id); !c.OK {
			t.Errorf("after the step: %+v", c)
		}
	}
	if c := value(after, "updates.dnf_automatic.upgrade_type"); c.Detail != "/etc/dnf/automatic.conf" {
		t.Errorf("effective upgrade_type comes from %q, want /etc/dnf/automatic.conf", c.Detail)
	}
	data, err := env.Root.ReadFile(legacy)
	if err != nil {
		t.Fatal(err)
	}
	if got := ini.Parse(string(data), ini.DNF).Value("commands", "upgrade_type"); got != "security" {
		t.Errorf("%s upgrade_type = %q, want security", legacy, got)
	}
}

// TestDnfAutomaticRebootOption: dnf-automatic before 4.14.0-6 (AlmaLinux
// 9.2's shipped automatic.conf has no reboot key) ignores `reboot`, so
// hardbake does not write one there, and a profile asking for reboots gets
// a warning instead of a promise; Rocky 9.4's (with the option) gets
// reboot = when-needed.
func TestDnfAutomaticRebootOption(t *testing.T) {
	ctx := context.Background()
	for _, c := range []struct {
		root        string
		wantReboot  string
		wantWarning bool
	}{
		{"alma9", "", true},
		{"rocky9", "when-needed", false},
	} {
		t.Run(c.root, func(t *testing.T) {
			env, _ := goldenEnv(t, c.root, "updates:\n  automatic_reboot: true\n", map[string]runner.Result{"rpm -q": {ExitCode: 1, Stdout: []byte("package x is not installed\n")}, "dnf ": {}, "systemctl enable": {}})
			actions, err := Updates{}.Plan(ctx, env)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := Execute(ctx, env, actions); err != nil {
				t.Fatal(err)
			}
			data, err := env.Root.ReadFile("/etc/dnf/automatic.conf")
			if err != nil {
				t.Fatal(err)
			}
			if got := ini.Parse(string(data), ini.DNF).Value("commands", "reboot"); got != c.wantReboot {
				t.Errorf("reboot = %q, want %q", got, c.wantReboot)
			}
			checks, err := Updates{}.Check(ctx, env)
			if err != nil {
				t.Fatal(err)
			}
			warned := false
			for _, ch := range checks {
				if ch.ID == "updates.dnf_automatic.reboot" && !ch.OK && ch.Severity == report.Warn {
					warned = true
				} else if !ch.OK && strings.HasPrefix(ch.ID, "updates.dnf_automatic") {
					t.Errorf("check %s failed: want %s, got %s", ch.ID, ch.Want, ch.Got)
				}
			}
			if warned != c.wantWarning {
				t.Errorf("reboot warning = %v, want %v (%+v)", warned, c.wantWarning, checks)
			}
		})
	}
}

// TestPolicyRCDLeftByAKilledRun: a policy-rc.d with hardbake's exact
// content is one a killed run left: the next package session uses it and
// removes it, so the image does not ship "exit 101". An admin's own
// policy-rc.d stays as it is.
func TestPolicyRCDLeftByAKilledRun(t *testing.T) {
	for _, c := range []struct {
		content string
		stays   bool
	}{{policyRCDContent, false}, {"#!/bin/sh\nexit 0\n", true}} {
		env, _ := goldenEnv(t, "debian12", "", nil)
		if err := env.Root.MkdirAll("/usr/sbin", 0o755, root.RootOwner); err != nil {
			t.Fatal(err)
		}
		if err := env.Root.WriteFile(policyRCD, []byte(c.content), 0o755, root.RootOwner); err != nil {
			t.Fatal(err)
		}
		err := withPackages(context.Background(), env, func() error {
			if data, _ := env.Root.ReadFile(policyRCD); string(data) != c.content && c.stays || !c.stays && string(data) != policyRCDContent {
				t.Errorf("during the session policy-rc.d is %q", data)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		data, err := env.Root.ReadFile(policyRCD)
		if c.stays && string(data) != c.content || !c.stays && err == nil {
			t.Errorf("after the session (stays %v): %q %v", c.stays, data, err)
		}
	}
}
