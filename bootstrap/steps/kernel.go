package steps

import (
	"context"
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/hardbake/hardbake/bootstrap"
	"github.com/hardbake/hardbake/bootstrap/distro"
	"github.com/hardbake/hardbake/bootstrap/profile"
	"github.com/hardbake/hardbake/bootstrap/report"
)

// Kernel applies the CIS kernel settings: the sysctl values (network
// redirects, source routing, reverse-path filter, address randomisation,
// pointer and dmesg restrictions, ptrace, protected links, BPF), core
// dumps off, and the unused file systems and protocols blocked in
// modprobe.d. It evaluates sysctl.d as systemd-sysctl does (sysctl_eval.go),
// so a distribution or cloud file that would override a value is found and
// reported with its file and line. Live, the values are applied at once;
// under --root nothing runs but the service manager's enable command.
type Kernel struct{}

// Name implements Step.
func (Kernel) Name() string { return "kernel" }

// ReapplyUnit runs systemd-sysctl again once the network is up: CIS (and
// SSG's sysctl_reapply_after_network) ask for it because interface set-up
// can reset per-interface values after early boot. The text is SSG's, with
// systemd-sysctl (the boot tool, which knows globs) instead of sysctl.
const ReapplyUnit = "/etc/systemd/system/sysctl-reapply-network.service"

func reapplyUnitText(systemdSysctl string) string {
	return `# Written by hardbake (kernel step): apply the sysctl settings again after
# network interfaces came up.
[Unit]
Description=Re-apply sysctl hardening after network interfaces come up
After=networking.service systemd-networkd.service
DefaultDependencies=no

[Service]
Type=oneshot
ExecStart=` + systemdSysctl + `
RemainAfterExit=yes

[Install]
WantedBy=multi-user.target
`
}

// systemdSysctl is the root's systemd-sysctl, "" when it has none.
func systemdSysctl(env *Env) string {
	if env.Distro.ServiceManager != distro.Systemd {
		return ""
	}
	for _, p := range []string{"/usr/lib/systemd/systemd-sysctl", "/lib/systemd/systemd-sysctl"} {
		if env.Root.Exists(p) {
			return p
		}
	}
	return ""
}

// plan returns the writes (and live, the commands) that make the root meet
// the profile; nothing when it does.
func (k Kernel) plan(ctx context.Context, env *Env) ([]Action, error) {
	p := env.Profile.Kernel
	// Refuse first: nothing changes when the list would break a mount.
	if err := refuseMounted(p.DisableModules, modulesInUse(env)); err != nil {
		return nil, fmt.Errorf("%w: %v", bootstrap.ErrInvalid, err)
	}
	if env.Live() {
		if err := forwardingGuard(liveForwarding(env), p, env.Force); err != nil {
			return nil, err
		}
	}
	var actions []Action
	add := func(a *Action, err error) error {
		actions = appendAction(actions, a)
		return err
	}
	sysctlWrite, err := WriteFile(env.Root, SysctlDropIn, []byte(sysctlDropInText(kernelSysctl(p))), 0o644, "CIS kernel and network settings")
	if err := add(sysctlWrite, err); err != nil {
		return nil, err
	}
	if len(p.DisableModules) > 0 {
		err = add(WriteFile(env.Root, ModprobeBlockList, []byte(modprobeBlockText(p.DisableModules)), 0o644, "block modules: "+strings.Join(p.DisableModules, ", ")))
	} else {
		err = add(RemoveFile(env.Root, ModprobeBlockList, "no modules to block"))
	}
	if err != nil {
		return nil, err
	}
	more, err := k.coreDumps(ctx, env)
	if err != nil {
		return nil, err
	}
	actions = append(actions, more...)
	sd := systemdSysctl(env)
	if sd != "" {
		unit, err := WriteFile(env.Root, ReapplyUnit, []byte(reapplyUnitText(sd)), 0o644, "apply the sysctl settings again after the network is up")
		if err := add(unit, err); err != nil {
			return nil, err
		}
		if unit != nil && env.Live() {
			actions = append(actions, Action{Kind: "run", Cmd: cmd("systemctl", "daemon-reload"), Summary: "load the new unit"})
		}
		if unit != nil {
			actions = append(actions, Action{Kind: "run", Cmd: cmd("systemctl", "enable", path.Base(ReapplyUnit)), Summary: "run it at boot"})
		} else {
			actions = appendAction(actions, enableAction(env, "run it at boot", path.Base(ReapplyUnit)))
		}
	}
	if env.Live() && (sysctlWrite != nil || liveNeedsApply(env, kernelSysctl(p))) {
		// The boot tool, so the live values come from the same merge as at
		// boot; procps' sysctl only where there is no systemd (-e: a key
		// this kernel lacks is not an error).
		apply := cmd("sysctl", "-e", "--system")
		if sd != "" {
			apply = cmd(sd)
		}
		actions = append(actions, Action{Kind: "run", Cmd: apply, Summary: "apply the sysctl settings now"})
	}
	return actions, nil
}

// forwardingKeys are the settings that make a host route.
var forwardingKeys = []string{"net.ipv4.ip_forward", "net.ipv6.conf.all.forwarding"}

// liveForwarding reads forwardingKeys from the running kernel.
func liveForwarding(env *Env) map[string]string {
	out := map[string]string{}
	for _, k := range forwardingKeys {
		if v, ok := liveSysctl(env, k); ok {
			out[k] = v
		}
	}
	return out
}

// forwardingGuard refuses to turn forwarding off on a live host that
// forwards now: Docker, Kubernetes and routers set it at run time, and
// turning it off cuts every container's network at once. The profile says
// so with kernel.ip_forward: true; --force turns it off anyway.
func forwardingGuard(live map[string]string, p profile.Kernel, force bool) error {
	if p.IPForward || force {
		return nil
	}
	var on []string
	for _, k := range forwardingKeys {
		if live[k] == "1" {
			on = append(on, k+" = 1")
		}
	}
	if len(on) == 0 {
		return nil
	}
	return fmt.Errorf("%w: this host forwards packets now (%s: set by a container runtime, Kubernetes or a router); "+
		"kernel.ip_forward: true keeps forwarding on, --force turns it off", bootstrap.ErrInvalid, strings.Join(on, ", "))
}

// coreDumps plans the limits file and the systemd-coredump drop-in, or
// their removal when core dumps are allowed.
func (Kernel) coreDumps(ctx context.Context, env *Env) ([]Action, error) {
	var actions []Action
	diversions := dpkgDiversions(readOr(env, "/var/lib/dpkg/diversions"))
	if env.Profile.Kernel.CoreDumps {
		for _, p := range []string{CoreLimits, CoredumpDropIn} {
			a, err := RemoveFile(env.Root, p, "core dumps allowed (kernel.core_dumps)")
			if err != nil {
				return nil, err
			}
			actions = appendAction(actions, a)
		}
		for file, to := range diversions {
			if to == file+limitsDivertName {
				actions = append(actions, Action{Kind: "run", Cmd: cmd("dpkg-divert", "--local", "--rename", "--remove", file),
					Summary: "put the package's " + file + " back (core dumps allowed)"})
			}
		}
		return actions, nil
	}
	a, err := WriteFile(env.Root, CoreLimits, []byte(coreLimitsText), 0o644, "core dump limit 0 for every user and root")
	if err != nil {
		return nil, err
	}
	actions = appendAction(actions, a)
	if env.Distro.ServiceManager == distro.Systemd {
		a, err := WriteFile(env.Root, CoredumpDropIn, []byte(coredumpDropInText), 0o644, "systemd-coredump stores nothing")
		if err != nil {
			return nil, err
		}
		actions = appendAction(actions, a)
	}
	// A package's limits file that allows core dumps (Debian 13's systemd
	// ships "* hard core infinity" in /etc/security/limits.d/
	// 10-coredump-debian.conf): ours sorts later and wins, but the line
	// still tells readers and scanners otherwise. A local dpkg diversion
	// moves it aside under a name pam_limits does not read, and package
	// upgrades keep installing it there, without a conffile prompt.
	files, err := readLimits(env)
	if err != nil {
		return nil, err
	}
	for _, f := range files {
		if f.Path == CoreLimits || !strings.HasPrefix(f.Path, "/etc/security/limits.d/") || !allowsCore(f) {
			continue
		}
		if _, ok := diversions[f.Path]; ok || !dpkgOwns(ctx, env, f.Path) {
			continue // someone's own file: reported by Check, not touched
		}
		actions = append(actions, Action{Kind: "run",
			Cmd:     cmd("dpkg-divert", "--local", "--rename", "--divert", f.Path+limitsDivertName, "--add", f.Path),
			Summary: "move the package's " + f.Path + " (it allows core dumps) aside"})
	}
	return actions, nil
}

// allowsCore reports whether a limits file gives "*" or root a hard core
// limit other than 0.
func allowsCore(f sysctlFile) bool {
	for _, l := range coreLimitLines(f.Path, f.Text) {
		if l.Value != "0" {
			return true
		}
	}
	return false
}

// dpkgOwns asks dpkg whether a package ships p.
func dpkgOwns(ctx context.Context, env *Env, p string) bool {
	if env.Distro.PackageManager != "apt" || !env.CanRun() {
		return false
	}
	_, err := env.Run.Run(ctx, cmd("dpkg-query", "-S", p))
	return err == nil
}

func readOr(env *Env, p string) string {
	data, _ := env.Root.ReadFile(p)
	return string(data)
}

// Plan implements Step.
func (k Kernel) Plan(ctx context.Context, env *Env) ([]Action, error) { return k.plan(ctx, env) }

// Apply implements Step.
func (k Kernel) Apply(ctx context.Context, env *Env) ([]report.Change, error) {
	return applyWithPackages(ctx, env, "", nil, func() ([]Action, error) { return k.plan(ctx, env) })
}

// Deviations implements Deviator: what the profile leaves as the kernel has
// it on purpose.
func (Kernel) Deviations(env *Env) []report.Deviation {
	p := env.Profile.Kernel
	var out []report.Deviation
	if p.IPv6RouterAdvertisements {
		out = append(out, report.Deviation{
			Refs: ssgRefs("sysctl_net_ipv6_conf_all_accept_ra", "sysctl_net_ipv6_conf_default_accept_ra"),
			Reason: "IPv6 router advertisements stay accepted (kernel.ipv6_router_advertisements: true): clouds give IPv6 " +
				"addresses and the default route by router advertisement (SLAAC); ignoring them takes the host's IPv6 network away"})
	}
	if p.IPForward {
		out = append(out, report.Deviation{
			Refs: ssgRefs("sysctl_net_ipv4_ip_forward", "sysctl_net_ipv4_conf_all_forwarding", "sysctl_net_ipv4_conf_default_forwarding",
				"sysctl_net_ipv6_conf_all_forwarding", "sysctl_net_ipv6_conf_default_forwarding"),
			Reason: "the host routes packets (kernel.ip_forward: true), as container and Kubernetes hosts must"})
	}
	if p.CoreDumps {
		out = append(out, report.Deviation{
			Refs:   append(ssgRefs("disable_users_coredumps", "sysctl_fs_suid_dumpable", "coredump_disable_storage", "coredump_disable_backtraces"), "lynis:KRNL-5820"),
			Reason: "core dumps are allowed (kernel.core_dumps: true)"})
	}
	var keep []string
	for m := range moduleRules {
		if !slices.ContainsFunc(p.DisableModules, func(o string) bool { return profile.SameModule(o, m) }) {
			keep = append(keep, m)
		}
	}
	slices.Sort(keep)
	for _, m := range keep {
		why := "not in kernel.disable_modules"
		switch m {
		case "udf":
			why = "udf stays loadable: Azure hands its provisioning data (ovf-env.xml) to the VM on a UDF disc"
		case "overlay":
			why = "overlay stays loadable: container runtimes (Docker, containerd, Podman) store images on overlayfs"
		}
		out = append(out, report.Deviation{Refs: moduleRefs(m), Reason: why})
	}
	return out
}
