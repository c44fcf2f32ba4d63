package steps

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/hardbake/hardbake/bootstrap"
	"github.com/hardbake/hardbake/bootstrap/distro"
	"github.com/hardbake/hardbake/bootstrap/report"
	"github.com/hardbake/hardbake/bootstrap/runner"
)

// Firewall denies inbound traffic except loopback, replies, essential ICMP,
// the ports sshd listens on and the profile's extra ports, with the
// distribution's firewall (nftables, firewalld) or ufw when chosen.
type Firewall struct{}

// Name implements Step.
func (Firewall) Name() string { return "firewall" }

// firewallBackend resolves firewall.backend "auto" to the distribution's.
func firewallBackend(env *Env) string {
	if b := env.Profile.Firewall.Backend; b != "" && b != "auto" {
		return b
	}
	return env.Distro.Firewall
}

// backendTool is the program each backend is driven with.
var backendTool = map[string]string{"nftables": "nft", "firewalld": "firewall-offline-cmd", "ufw": "ufw"}

// backendPackage is the package that provides it.
var backendPackage = map[string]string{"nftables": "nftables", "firewalld": "firewalld", "ufw": "ufw"}

// Preflight implements Preflighter: a backend other than the distribution's
// default is never installed by hardbake (installing ufw next to firewalld
// makes two firewalls); it must be in the image already.
func (Firewall) Preflight(ctx context.Context, env *Env) error {
	b := firewallBackend(env)
	// A drop-policy table of the admin's in the main nftables file would
	// block the SSH port whatever our table allows: refuse before anything
	// is installed (the distribution's stock one is neutralised instead).
	if b == "nftables" {
		main := nftablesMain(env.Distro)
		if old, err := env.Root.ReadFile(main); err == nil {
			if _, _, err := neutraliseStockFilter(main, string(old)); err != nil {
				return err
			}
		}
	}
	if b == env.Distro.Firewall || !env.Root.Writable() {
		return nil
	}
	if _, ok := runner.Lookup(env.Root.HostPath("/"), backendTool[b]); !ok {
		return fmt.Errorf("%w: firewall.backend: %s is not installed in %s (no %s); install the %s package first, or use backend: auto (%s here)",
			bootstrap.ErrInvalid, b, env.Root, backendTool[b], backendPackage[b], env.Distro.Firewall)
	}
	return nil
}

func (f Firewall) ports(ctx context.Context, env *Env) (ssh, tcp, udp []int, err error) {
	ssh, err = sshPorts(ctx, env)
	tcp = slices.Sorted(slices.Values(env.Profile.Firewall.AllowTCP))
	udp = slices.Sorted(slices.Values(env.Profile.Firewall.AllowUDP))
	return ssh, tcp, udp, err
}

func (f Firewall) configure(ctx context.Context, env *Env) ([]Action, error) {
	ssh, tcp, udp, err := f.ports(ctx, env)
	if err != nil {
		return nil, err
	}
	switch firewallBackend(env) {
	case "firewalld":
		return firewalldActions(ctx, env, ssh, tcp, udp)
	case "ufw":
		return ufwActions(env, ssh, tcp, udp)
	}
	var actions []Action
	a, err := WriteFile(env.Root, NftablesRules, []byte(nftablesRuleset(ssh, tcp, udp)), 0o644,
		"table inet hardbake: default-deny inbound, ssh on "+joinInts(ssh, ","))
	if err != nil {
		return nil, err
	}
	actions = appendAction(actions, a)
	main := nftablesMain(env.Distro)
	old, err := env.Root.ReadFile(main)
	if err != nil && !isNotExist(err) {
		return nil, err
	}
	text, neutralised, err := neutraliseStockFilter(main, string(old))
	if err != nil {
		return nil, err
	}
	summary := "load hardbake's table at boot"
	if neutralised {
		summary += "; comment out the stock drop-policy filter table (it allows only port 22)"
	}
	a, err = WriteFile(env.Root, main, []byte(withNftInclude(text)), 0o755, summary)
	if err != nil {
		return nil, err
	}
	actions = appendAction(actions, a)
	if env.Distro.ServiceManager == distro.SysV {
		sysv, err := initScriptActions(env, NftablesInitName, nftablesInitScriptText(main),
			"init script that loads the firewall at boot, before the network (SysV: nftables ships none)",
			"load the firewall at boot (insserv orders it before $network)")
		if err != nil {
			return nil, err
		}
		actions = append(actions, sysv...)
	} else {
		actions = appendAction(actions, enableAction(env, "load the firewall at boot", "nftables.service"))
	}
	if len(actions) == 0 {
		return nil, nil
	}
	// nft -c sends the whole ruleset to the kernel as a transaction that is
	// checked and then aborted: it needs netlink, not a running target, so it
	// works in a chroot (the host's kernel judges the target's rules).
	actions = append(actions, Action{
		Kind: "validate", Summary: "nft -c accepts the ruleset", Cmd: cmd("nft", "-c", "-f", main),
		Validate: func(ctx context.Context) error { _, err := env.Run.Run(ctx, cmd("nft", "-c", "-f", main)); return err },
	})
	if env.Live() {
		// Load only our table: reloading nftables.service would run the
		// main file's "flush ruleset" and drop everyone else's rules.
		actions = append(actions, Action{Kind: "run", Summary: "load the table now", Cmd: cmd("nft", "-f", NftablesRules)})
	}
	return actions, nil
}

// Plan implements Step.
func (f Firewall) Plan(ctx context.Context, env *Env) ([]Action, error) {
	return planWithPackages(ctx, env, "install the firewall", f.packages(env), func() ([]Action, error) { return f.configure(ctx, env) })
}

// packages is the firewall backend's package where the step installs it.
func (Firewall) packages(env *Env) [][]string {
	if b := firewallBackend(env); b == env.Distro.Firewall {
		return [][]string{{backendPackage[b]}}
	}
	return nil
}

// Apply implements Step.
func (f Firewall) Apply(ctx context.Context, env *Env) ([]report.Change, error) {
	return applyWithPackages(ctx, env, "install the firewall", f.packages(env), func() ([]Action, error) { return f.configure(ctx, env) })
}

// Check implements Step.
func (f Firewall) Check(ctx context.Context, env *Env) ([]report.Check, error) {
	ssh, tcp, udp, err := f.ports(ctx, env)
	if err != nil {
		return nil, err
	}
	switch firewallBackend(env) {
	case "firewalld":
		return firewalldChecks(ctx, env, ssh, tcp, udp), nil
	case "ufw":
		return ufwChecks(env, ssh, tcp, udp), nil
	}
	data, _ := env.Root.ReadFile(NftablesRules)
	main, _ := env.Root.ReadFile(nftablesMain(env.Distro))
	checks := []report.Check{
		check("firewall.ruleset", "hardbake table, ssh on "+joinInts(ssh, ","), rulesetSummary(string(data), ssh, tcp, udp)),
		check("firewall.included", "yes", yesNo(strings.Contains(string(main), fmt.Sprintf("include %q", NftablesRules)))),
		check("firewall.enabled_at_boot", "enabled", enabledWord(unitEnabled(env, "nftables.service"))),
		check("firewall.other_drop_tables", "none", otherDropTables(string(main))),
	}
	if env.Distro.ServiceManager == distro.SysV {
		checks = append(checks, initScriptCheck(env, "firewall.init_script", NftablesInitName, nftablesInitScriptText(nftablesMain(env.Distro))))
	}
	if env.Live() {
		_, err := env.Run.Run(ctx, cmd("nft", "list", "table", "inet", "hardbake"))
		checks = append(checks, check("firewall.loaded", "yes", yesNo(err == nil)))
		res, _ := env.Run.Run(ctx, cmd("nft", "list", "ruleset"))
		// A warning: during a bake only hardbake's table is loaded; the
		// distribution's own tables come with nftables.service at boot.
		c := check("firewall.base_chains", "input forward output", baseChainHooks(string(res.Stdout)))
		c.Refs = []string{"ssg:set_nftables_base_chain"}
		if !c.OK {
			c.Severity = report.Warn
		}
		checks = append(checks, c)
	}
	return checks, nil
}

// baseChainHooks lists which of the input, forward and output hooks have a
// base chain in a loaded ruleset (`nft list ruleset`), the way SSG's
// set_nftables_base_chain looks for them.
func baseChainHooks(ruleset string) string {
	var have []string
	for _, hook := range []string{"input", "forward", "output"} {
		if strings.Contains(ruleset, "hook "+hook+" ") {
			have = append(have, hook)
		}
	}
	if len(have) == 0 {
		return "none"
	}
	return strings.Join(have, " ")
}

// Deviations implements Deviator.
func (Firewall) Deviations(env *Env) []report.Deviation {
	var out []report.Deviation
	backend := firewallBackend(env)
	if backend != "ufw" {
		out = append(out, report.Deviation{Refs: []string{"ssg:package_ufw_installed"},
			Reason: backend + " is the firewall (the distribution's default); CIS asks for exactly one firewall utility, and ufw would be a second one (firewall.backend: ufw uses ufw instead)"})
	}
	if backend == "nftables" && !env.Live() {
		out = append(out, report.Deviation{Refs: []string{"ssg:set_nftables_base_chain"}, OfflineOnly: true,
			Reason: "SSG checks this rule by running `nft list ruleset` on the machine that runs the scanner, so an offline scan of an image (oscap-chroot) judges the scanning host, not the image; on a running host audit reports the loaded ruleset's base chains as firewall.base_chains (hardbake's table has an input chain; forward and output come from the distribution's own table, Debian's inet filter, where the main nftables file keeps it)"})
	}
	return out
}

// rulesetSummary says whether the file is the one we would write now.
func rulesetSummary(text string, ssh, tcp, udp []int) string {
	switch {
	case text == "":
		return "missing"
	case text != nftablesRuleset(ssh, tcp, udp):
		return "differs from the profile (ssh ports or allowed ports changed)"
	}
	return "hardbake table, ssh on " + joinInts(ssh, ",")
}
