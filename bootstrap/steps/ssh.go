package steps

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/hardbake/hardbake/bootstrap/distro"
	"github.com/hardbake/hardbake/bootstrap/profile"
	"github.com/hardbake/hardbake/bootstrap/report"
	"github.com/hardbake/hardbake/bootstrap/runner"
	"github.com/hardbake/hardbake/bootstrap/sshcrypto"
	"github.com/hardbake/hardbake/bootstrap/sshdconfig"
)

// Paths the ssh step owns or edits.
const (
	SSHDConfig = "/etc/ssh/sshd_config"
	// SSHDropIn sorts first in sshd_config.d: OpenSSH keeps the first value
	// it reads for most keywords, so the first drop-in wins over cloud-init's
	// 50-cloud-init.conf and Ubuntu's 60-cloudimg-settings.conf.
	SSHDropIn = "/etc/ssh/sshd_config.d/00-hardbake.conf"
	// CloudInitSSH stops cloud-init from turning password login back on at
	// first boot (its ssh_pwauth default is "unchanged" on Debian, but images
	// and user-data often set true) and from enabling root login.
	CloudInitSSH = "/etc/cloud/cloud.cfg.d/99-hardbake-ssh.cfg"
)

const cloudInitSSHContent = `# Written by hardbake: keep cloud-init from undoing the SSH hardening.
ssh_pwauth: false
disable_root: true
`

// SSH hardens sshd: no root login, no passwords, keys only, the profile's
// address family and ports, validated by the target's own sshd.
type SSH struct{}

// Name implements Step.
func (SSH) Name() string { return "ssh" }

// Directives returns the sshd lines the profile asks for, in the order they
// are written. The access list (AllowGroups) depends on the root's accounts
// and is added by Plan (loginGroupsOf).
func (SSH) Directives(p profile.SSH) []string {
	pw := yesNo(p.PasswordAuthentication)
	d := []string{
		"PermitRootLogin " + p.PermitRootLogin,
		"PasswordAuthentication " + pw,
		"KbdInteractiveAuthentication " + pw,
		"PubkeyAuthentication yes",
		// Never on: no empty password, no host-based trust, no user-set
		// environment (LD_PRELOAD from ~/.ssh/environment), no Kerberos.
		"PermitEmptyPasswords no",
		"HostbasedAuthentication no",
		"IgnoreRhosts yes",
		"PermitUserEnvironment no",
		"GSSAPIAuthentication no",
		"AddressFamily " + p.AddressFamily,
		"MaxAuthTries " + strconv.Itoa(p.MaxAuthTries),
		"LoginGraceTime " + strconv.Itoa(p.LoginGraceTime),
		"MaxSessions " + strconv.Itoa(p.MaxSessions),
		"MaxStartups " + p.MaxStartups,
		"ClientAliveInterval " + strconv.Itoa(p.ClientAliveInterval),
		"ClientAliveCountMax " + strconv.Itoa(p.ClientAliveCountMax),
		"LogLevel " + p.LogLevel,
		"X11Forwarding " + yesNo(p.X11Forwarding),
		"AllowTcpForwarding " + yesNo(p.TCPForwarding),
		"AllowAgentForwarding " + yesNo(p.AgentForwarding),
	}
	// DisableForwarding also turns off Unix socket forwarding, which has
	// no keyword of its own in the list above.
	if !p.X11Forwarding && !p.TCPForwarding && !p.AgentForwarding {
		d = append(d, "DisableForwarding yes")
	}
	if p.Banner != "" {
		d = append(d, "Banner "+IssueNet)
	} else {
		d = append(d, "Banner none")
	}
	for _, port := range p.Ports {
		d = append(d, "Port "+strconv.Itoa(port))
	}
	return d
}

// accumulates reports whether sshd adds up a keyword's values from every
// file instead of keeping the first: such lines are written once, in the
// drop-in when sshd reads it, or a second copy would make sshd bind a port
// twice (and load a host key twice).
func accumulates(directive string) bool {
	k, _, _ := strings.Cut(directive, " ")
	return k == "Port" || k == "AllowGroups" || k == "HostKey"
}

// OfflineUnset is what an offline audit reports for a keyword no file sets
// and whose compiled-in default only the target's sshd binary knows
// (the algorithm lists).
const OfflineUnset = "unset (OpenSSH's compiled-in default)"

// want is the `sshd -T` value each managed keyword must end with. Port and
// HostKey accumulate across files and are checked on their own.
func want(directives []string) map[string]string {
	w := map[string]string{}
	for _, d := range directives {
		k, v, _ := strings.Cut(d, " ")
		if k == "Port" || k == "HostKey" || k == "AllowGroups" || strings.HasPrefix(k, "#") {
			continue
		}
		w[strings.ToLower(k)] = v
	}
	return w
}

// weakening lists what a Match block may not turn back on.
func weakening(p profile.SSH, v sshdconfig.Value) bool {
	arg := ""
	if len(v.Args) > 0 {
		arg = strings.ToLower(v.Args[0])
	}
	switch v.Keyword {
	case "passwordauthentication", "kbdinteractiveauthentication", "challengeresponseauthentication":
		return !p.PasswordAuthentication && arg == "yes"
	case "permitrootlogin":
		return arg != "no" && (p.PermitRootLogin == "no" || arg == "yes")
	}
	return false
}

// Plan implements Step.
func (s SSH) Plan(ctx context.Context, env *Env) ([]Action, error) {
	main, err := env.Root.ReadFile(SSHDConfig)
	if err != nil {
		return nil, fmt.Errorf("%s: %w (is %s installed?)", SSHDConfig, err, env.Distro.SSHPackage)
	}
	current, err := sshdconfig.Load(env.Root, SSHDConfig)
	if err != nil {
		return nil, fmt.Errorf("reading the current sshd configuration: %w", err)
	}
	p := env.Profile.SSH
	directives, crypto, _, err := s.settings(ctx, env)
	if err != nil {
		return nil, err
	}
	if crypto.Skipped != "" && p.Crypto != "off" {
		env.logf("  ssh: algorithms left as they are: %s", crypto.Skipped)
	}

	// Start from the configuration as the admin left it: no managed block,
	// no drop-in of ours, nothing disabled by an earlier run. Re-deriving
	// everything from there makes a second run produce identical files.
	ov := newOverlay(env.Root)
	base := map[string]string{}
	for _, f := range current.Files {
		if f == SSHDropIn {
			continue
		}
		data, err := env.Root.ReadFile(f)
		if err != nil {
			return nil, err
		}
		text := sshdconfig.RestoreDisabled(string(data))
		if f == SSHDConfig {
			text = sshdconfig.SetManagedBlock(text, nil)
		}
		base[f] = text
		ov.set(f, []byte(text))
	}
	if _, ok := base[SSHDConfig]; !ok {
		base[SSHDConfig] = sshdconfig.SetManagedBlock(string(main), nil)
		ov.set(SSHDConfig, []byte(base[SSHDConfig]))
	}

	// The one list of directives goes to two places. A managed block at the
	// top of sshd_config, before any Include or Match: sshd keeps the first
	// value it reads, so the block wins over every drop-in (cloud-init's
	// 50-cloud-init.conf, Fedora's 50-redhat.conf), and compliance scanners
	// that read only sshd_config (SCAP Security Guide's Debian content does
	// not follow Include) see the values sshd uses. And the drop-in, which
	// keeps the hardening when a package upgrade replaces sshd_config with
	// the maintainer's version (an admin's answer to ucf's question).
	// Keywords whose values add up across files (Port, HostKey, AllowGroups)
	// are written once, in the drop-in, or sshd would bind a port twice.
	var block []string
	for _, d := range directives {
		if !accumulates(d) {
			block = append(block, d)
		}
	}
	if len(block) < len(directives) {
		block = append(block, "# Port, HostKey and AllowGroups add up across files: they are in "+SSHDropIn)
	}
	dropIn := strings.Join(append([]string{"# Written by hardbake; rewritten on every bake, like the managed block at the top of " + SSHDConfig + ". Local changes belong in a later file."}, directives...), "\n") + "\n"
	ov.set(SSHDropIn, []byte(dropIn))
	ov.set(SSHDConfig, []byte(sshdconfig.SetManagedBlock(base[SSHDConfig], block)))
	eff, err := sshdconfig.Load(ov, SSHDConfig)
	if err != nil {
		return nil, err
	}
	if !slices.Contains(eff.Files, SSHDropIn) {
		// This sshd_config does not include sshd_config.d: the block holds
		// everything.
		ov.remove(SSHDropIn)
		ov.set(SSHDConfig, []byte(sshdconfig.SetManagedBlock(base[SSHDConfig], directives)))
		if eff, err = sshdconfig.Load(ov, SSHDConfig); err != nil {
			return nil, err
		}
	}
	withBlock, _ := ov.ReadFile(SSHDConfig)
	first, last := blockLines(string(withBlock))
	ours := func(v sshdconfig.Value) bool {
		return v.File == SSHDropIn || (v.File == SSHDConfig && v.Line > first && v.Line < last)
	}
	if !wins(eff, directives, ours) {
		return nil, fmt.Errorf("internal error: the managed block at the top of %s does not win", SSHDConfig)
	}

	// Lines to neutralise: other Port lines when the profile sets ports
	// (Port accumulates across files), and Match blocks that would turn
	// passwords or root login back on for some connections.
	disable := map[string][]int{}
	if len(p.Ports) > 0 {
		for _, v := range eff.Values["port"] {
			if !ours(v) {
				disable[v.File] = append(disable[v.File], v.Line)
			}
		}
	}
	for _, m := range eff.Matches {
		for _, v := range m.Directives {
			if weakening(p, v) {
				disable[v.File] = append(disable[v.File], v.Line)
			}
		}
	}
	for f, lines := range disable {
		data, _ := ov.ReadFile(f)
		ov.set(f, []byte(sshdconfig.DisableLines(string(data), lines)))
	}
	// Files we did not change must not be rewritten (their base may differ
	// from disk only by markers we would re-add).
	actions, err := ov.actions(map[string]string{
		SSHDConfig: "sshd main configuration",
		SSHDropIn:  "hardbake sshd settings",
	})
	if err != nil {
		return nil, err
	}
	for i := range actions {
		if actions[i].Summary == "" {
			actions[i].Summary = "disable sshd lines that override the hardening"
		}
	}
	more, err := sshFileActions(env, p, actions)
	if err != nil {
		return nil, err
	}
	actions = append(actions, more...)
	if env.Root.Exists("/etc/cloud/cloud.cfg.d") {
		a, err := WriteFile(env.Root, CloudInitSSH, []byte(cloudInitSSHContent), 0o644, "keep cloud-init from re-enabling passwords and root login")
		if err != nil {
			return nil, err
		}
		if a != nil {
			actions = append(actions, *a)
		}
	}
	// SELinux must allow a new port before sshd is told to bind it.
	label, err := selinuxPortActions(ctx, env, p.Ports)
	if err != nil {
		return nil, err
	}
	actions = append(actions, label...)
	if len(actions) == 0 {
		return nil, nil
	}
	if hasSSHD(env) {
		// -T tests exactly what -t does and also prints the result, which
		// the run's sshd model keeps for the check and the firewall.
		actions = append(actions, Action{
			Kind: "validate", Summary: "sshd -T accepts the new configuration",
			Cmd:      runner.Cmd{Name: SSHDBinary, Args: []string{"-T"}},
			Validate: func(ctx context.Context) error { return validateSSHD(ctx, env) },
		})
	}
	if env.Live() {
		actions = append(actions, reloadSSH(env.Distro)...)
	}
	return actions, nil
}

// settings is every sshd line the step writes, in order: the profile's,
// the algorithms chosen for the target's sshd, and who may log in.
func (s SSH) settings(ctx context.Context, env *Env) ([]string, sshCrypto, loginGroups, error) {
	p := env.Profile.SSH
	crypto, err := cryptoFor(ctx, env)
	if err != nil {
		return nil, sshCrypto{}, loginGroups{}, err
	}
	d := append(s.Directives(p), crypto.directives(p)...)
	g := loginGroupsOf(env)
	if line := g.directive(); line != "" {
		d = append(d, line)
	}
	return d, crypto, g, nil
}

// managedBlockCheck: the block at the top of sshd_config holds every
// directive but the ones that add up across files (which may be in the
// drop-in): scanners read only that file, and a package upgrade whose
// maintainer version an admin accepted drops it while sshd -T, reading the
// drop-in, still looks hardened.
func managedBlockCheck(env *Env, directives []string) report.Check {
	data, _ := env.Root.ReadFile(SSHDConfig)
	text := strings.ReplaceAll(string(data), "\r\n", "\n")
	first, last := blockLines(text)
	got := "missing"
	if first > 0 && last > first {
		lines := strings.Split(text, "\n")[first : last-1]
		var missing []string
		for _, d := range directives {
			if !accumulates(d) && !slices.Contains(lines, d) {
				missing = append(missing, d)
			}
		}
		got = "complete"
		if len(missing) > 0 {
			got = "lacks " + strings.Join(missing, "; ")
		}
	}
	c := check("ssh.managed_block", "complete", got)
	c.Detail = "the hardened values at the top of " + SSHDConfig + ", where scanners look"
	return c
}

// wins reports whether every managed keyword's effective value comes from our lines.
func wins(eff *sshdconfig.Effective, directives []string, ours func(sshdconfig.Value) bool) bool {
	for k := range want(directives) {
		v, ok := eff.Get(k)
		if !ok || !ours(v) {
			return false
		}
	}
	return true
}

// blockLines finds the managed block's begin and end line numbers.
func blockLines(text string) (first, last int) {
	for i, l := range strings.Split(text, "\n") {
		switch strings.TrimSpace(l) {
		case sshdconfig.BlockBegin:
			first = i + 1
		case sshdconfig.BlockEnd:
			last = i + 1
		}
	}
	return first, last
}

// reloadSSH returns the commands that make a running sshd read its new
// configuration. On Ubuntu >= 22.10 sshd is socket-activated: the port and
// address family live in ssh.socket (generated from sshd_config by
// sshd-socket-generator), so the generator must rerun and the socket restart.
// The socket is never masked: that breaks release upgrades.
// On SysV, Debian's init script's try-restart checks the configuration with
// sshd -t and restarts sshd only when it runs (open sessions survive: only
// the listener restarts). Its reload would do the same for a running sshd,
// but fails when sshd is not running yet, as when hardbake firstboot applies
// host data early in the boot: its sshd -t needs /run/sshd, which only
// start, restart and try-restart create.
func reloadSSH(d distro.Info) []Action {
	run := func(summary, name string, args ...string) Action {
		return Action{Kind: "run", Summary: summary, Cmd: runner.Cmd{Name: name, Args: args}}
	}
	switch d.ServiceManager {
	case distro.Systemd:
		var out []Action
		if d.SSHSocket != "" {
			out = append(out,
				run("regenerate ssh.socket from sshd_config", "systemctl", "daemon-reload"),
				run("rebind the SSH socket", "systemctl", "try-restart", d.SSHSocket))
		}
		return append(out, run("reload sshd", "systemctl", "try-reload-or-restart", d.SSHService+".service"))
	case distro.OpenRC:
		return []Action{run("reload sshd", "rc-service", d.SSHService, "reload")}
	default:
		return []Action{run("restart sshd if it runs", "service", d.SSHService, "try-restart")}
	}
}

// Apply implements Step.
func (s SSH) Apply(ctx context.Context, env *Env) ([]report.Change, error) {
	actions, err := s.Plan(ctx, env)
	if err != nil || len(actions) == 0 {
		return nil, err
	}
	if env.Live() && !env.Force && (!env.Profile.SSH.PasswordAuthentication || env.Profile.SSH.LimitGroups) {
		if err := lockoutGuard(env, loginGroupsOf(env)); err != nil {
			return nil, err
		}
	}
	return Execute(ctx, env, actions)
}

// Check implements Step.
func (s SSH) Check(ctx context.Context, env *Env) ([]report.Check, error) {
	p := env.Profile.SSH
	got, source, err := effectiveSSHD(ctx, env)
	if err != nil {
		return []report.Check{{ID: "ssh.config", OK: false, Want: "a valid sshd configuration", Got: err.Error()}}, nil
	}
	directives, crypto, groups, err := s.settings(ctx, env)
	if err != nil {
		return nil, err
	}
	checks := crypto.finding(p)
	want := want(directives)
	keys := make([]string, 0, len(want))
	for k := range want {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		g := strings.Join(got[k], " ")
		if k == "permitrootlogin" && g == "without-password" {
			g = "prohibit-password" // sshd -T (9.2, 10.0) prints the old name
		}
		if g == "" && source != "sshd -T" {
			// Offline only the files are known; sshd's built-in lists are not.
			g = OfflineUnset
		}
		// sshd -T prints some values upper-case (loglevel INFO): the
		// same word in another case is the same value.
		w := want[k]
		if strings.EqualFold(w, g) {
			g = w
		}
		c := check("ssh."+k, w, g)
		c.Detail = source
		if crypto.Version != (sshcrypto.Version{}) && strings.Contains(w, ",") {
			c.Detail += "; chosen for OpenSSH " + crypto.Version.String() + " (" + crypto.Source + ")"
		}
		c.Refs = sshRefs[k]
		checks = append(checks, c)
	}
	if len(p.Ports) > 0 {
		var w []string
		for _, port := range p.Ports {
			w = append(w, strconv.Itoa(port))
		}
		slices.Sort(w)
		g := slices.Clone(got["port"])
		slices.Sort(g)
		c := check("ssh.port", strings.Join(w, " "), strings.Join(g, " "))
		c.Refs = sshRefs["port"]
		checks = append(checks, c)
	}
	// Match blocks are not in `sshd -T` without -C: read them from the files.
	eff, err := sshdconfig.Load(env.Root, SSHDConfig)
	if err == nil {
		var weak []string
		for _, m := range eff.Matches {
			for _, v := range m.Directives {
				if weakening(p, v) {
					weak = append(weak, fmt.Sprintf("%s:%d %s %s", v.File, v.Line, v.Keyword, strings.Join(v.Args, " ")))
				}
			}
		}
		c := check("ssh.match_overrides", "none", "none")
		if len(weak) > 0 {
			c = check("ssh.match_overrides", "none", strings.Join(weak, "; "))
		}
		checks = append(checks, c)
	}
	checks = append(checks, managedBlockCheck(env, directives))
	checks = append(checks, hostKeysCheck(env, p, eff))
	checks = append(checks, groups.check(got["allowgroups"], source))
	checks = append(checks, sshFileChecks(env, p)...)
	if env.Root.Exists("/etc/cloud/cloud.cfg.d") {
		data, _ := env.Root.ReadFile(CloudInitSSH)
		checks = append(checks, check("ssh.cloud_init_pwauth", "ssh_pwauth: false", cloudInitPwauth(string(data))))
	}
	return checks, nil
}

func cloudInitPwauth(text string) string {
	for _, l := range strings.Split(text, "\n") {
		if strings.HasPrefix(strings.TrimSpace(l), "ssh_pwauth:") {
			return strings.TrimSpace(l)
		}
	}
	return "not set"
}
