package steps

import (
	"context"
	"fmt"
	"path"
	"strings"

	"github.com/hardbake/hardbake/bootstrap/distro"
	"github.com/hardbake/hardbake/bootstrap/report"
)

// sampleInterface stands for "some network interface" when a glob setting
// is judged from the files (live, every interface is read).
const sampleInterface = "eth0"

// liveSysctl reads the running kernel's value of key ("" and false when
// this kernel has no such key, e.g. IPv6 disabled). For a glob key it
// returns the interfaces whose value differs from want.
func liveSysctl(env *Env, key string) (string, bool) {
	data, err := env.Root.ReadFile(path.Join("/proc/sys", swapDotsSlashes(key)))
	if err != nil {
		return "", false
	}
	return strings.Join(strings.Fields(string(data)), " "), true
}

// liveGlobMismatch lists "iface=value" for each interface whose value of a
// glob setting is not want.
func liveGlobMismatch(env *Env, key, want string) (bad []string, n int) {
	matches, _ := env.Root.Glob(path.Join("/proc/sys", swapDotsSlashes(key)))
	for _, m := range matches {
		data, err := env.Root.ReadFile(m)
		if err != nil {
			continue
		}
		iface := path.Base(path.Dir(m))
		if iface == "all" || iface == "default" {
			continue // checked on their own
		}
		n++
		if v := strings.TrimSpace(string(data)); v != want {
			bad = append(bad, iface+"="+v)
		}
	}
	return bad, n
}

// sysctlChecks compares each setting with its effective value: live the
// running kernel's, under --root what systemd-sysctl would set at boot.
func sysctlChecks(env *Env, settings []sysctlSetting, boot bootSysctl) []report.Check {
	var checks []report.Check
	for _, s := range settings {
		id := "kernel.sysctl." + s.Key
		glob := strings.Contains(s.Key, "*")
		var c report.Check
		switch {
		case env.Live() && glob:
			bad, n := liveGlobMismatch(env, s.Key, s.Value)
			c = check(id, s.Value, s.Value)
			c.Detail = fmt.Sprintf("%d interface(s) read", n)
			if len(bad) > 0 {
				c = check(id, s.Value, strings.Join(bad, " "))
			}
		case env.Live():
			got, ok := liveSysctl(env, s.Key)
			c = check(id, s.Value, got)
			if !ok {
				c = report.Check{ID: id, OK: true, Want: s.Value, Got: "absent", Detail: "this kernel has no such setting"}
			}
		default:
			key := s.Key
			if glob {
				key = strings.Replace(key, "*", sampleInterface, 1)
			}
			l, ok := boot.Effective(key)
			c = check(id, s.Value, l.Value)
			if !ok {
				c.Got, c.Detail = "not set", "no sysctl.d file sets it: the kernel's default stays"
			}
		}
		// Name the file that wins when it is not ours, live included: the
		// next boot applies it.
		if l, ok := boot.Effective(strings.Replace(s.Key, "*", sampleInterface, 1)); ok && l.Path != SysctlDropIn {
			c.Detail = strings.TrimPrefix(c.Detail+"; ", "; ") + "at boot the value comes from " + l.Origin() + " (" + l.Value + ")"
			if l.Value != s.Value {
				c.OK = false
			}
		}
		c.Refs = s.Refs
		checks = append(checks, c)
	}
	return checks
}

// scannerView lists the lines of every sysctl file (masked or not, read at
// boot or not) that set one of our keys to another value: what OpenSCAP's
// SSG sysctl rules read, and report as failures even when our later file
// wins. A warning: the effective values are judged above.
func scannerView(settings []sysctlSetting, boot bootSysctl) report.Check {
	var lines []string
	for _, s := range settings {
		if strings.Contains(s.Key, "*") {
			continue
		}
		for _, l := range sysctlConflicts(boot.All, s.Key, s.Value) {
			lines = append(lines, fmt.Sprintf("%s: %s = %s", l.Origin(), l.Key, l.Value))
		}
	}
	c := report.Check{ID: "kernel.sysctl.other_files", OK: len(lines) == 0, Want: "no other value in any sysctl file", Severity: report.Warn,
		Got: fmt.Sprintf("%d line(s)", len(lines)), Detail: strings.Join(lines, "; ")}
	return c
}

// liveNeedsApply reports whether a running kernel's value differs from a
// setting.
func liveNeedsApply(env *Env, settings []sysctlSetting) bool {
	for _, s := range settings {
		if strings.Contains(s.Key, "*") {
			if bad, _ := liveGlobMismatch(env, s.Key, s.Value); len(bad) > 0 {
				return true
			}
		} else if got, ok := liveSysctl(env, s.Key); ok && got != s.Value {
			return true
		}
	}
	return false
}

// Check implements Step.
func (k Kernel) Check(ctx context.Context, env *Env) ([]report.Check, error) {
	p := env.Profile.Kernel
	settings := kernelSysctl(p)
	boot, err := loadSysctl(env.Root, env.Distro)
	if err != nil {
		return nil, err
	}
	checks := sysctlChecks(env, settings, boot)
	checks = append(checks, scannerView(settings, boot))
	checks = append(checks, k.moduleChecks(ctx, env)...)
	if !p.CoreDumps {
		more, err := coreChecks(env)
		if err != nil {
			return nil, err
		}
		checks = append(checks, more...)
	}
	if sd := systemdSysctl(env); sd != "" {
		data, _ := env.Root.ReadFile(ReapplyUnit)
		state := "missing"
		if string(data) == reapplyUnitText(sd) {
			state = enabledWord(unitEnabled(env, path.Base(ReapplyUnit)))
		} else if len(data) > 0 {
			state = "differs from this hardbake's"
		}
		c := check("kernel.sysctl_reapply_unit", "enabled", state)
		c.Refs = ssgRefs("sysctl_reapply_after_network")
		checks = append(checks, c)
	}
	return checks, nil
}

// moduleChecks asks kmod (`modprobe -c`, its merge of every modprobe.d
// file) which modules cannot load; where modprobe cannot run (a read-only
// image) our file is read instead.
func (Kernel) moduleChecks(ctx context.Context, env *Env) []report.Check {
	list := env.Profile.Kernel.DisableModules
	if len(list) == 0 {
		return nil
	}
	source := "modprobe -c"
	var blocked map[string]bool
	if env.CanRun() {
		if res, err := env.Run.Run(ctx, cmd("modprobe", "-c")); err == nil {
			blocked = blockedByModprobe(string(res.Stdout))
		}
	}
	if blocked == nil {
		source = ModprobeBlockList + " (modprobe could not run)"
		blocked = blockedByModprobe(readOr(env, ModprobeBlockList))
	}
	var checks []report.Check
	for _, m := range list {
		got := "loadable"
		if blocked[strings.ReplaceAll(m, "-", "_")] {
			got = "blocked"
		}
		c := check("kernel.module."+m, "blocked", got)
		c.Detail, c.Refs = "read from "+source, moduleRefs(m)
		checks = append(checks, c)
	}
	return checks
}

// coreChecks judges core dumps off: the hard limits pam_limits gives, any
// other file a scanner would read as allowing dumps, and systemd-coredump.
func coreChecks(env *Env) ([]report.Check, error) {
	files, err := readLimits(env)
	if err != nil {
		return nil, err
	}
	eff := effectiveCoreLimits(files)
	var got, from []string
	for _, d := range []string{"*", "root"} {
		l, ok := eff[d]
		v := "unlimited (no line)"
		if ok {
			v = l.Value
			from = append(from, fmt.Sprintf("%s from %s:%d", d, l.Path, l.Line))
		}
		got = append(got, d+"="+v)
	}
	c := check("kernel.core_dumps.limit", "*=0 root=0", strings.Join(got, " "))
	c.Detail, c.Refs = strings.Join(from, ", "), append(ssgRefs("disable_users_coredumps"), "lynis:KRNL-5820")
	checks := []report.Check{c}
	var others []string
	for _, f := range files {
		if f.Path == CoreLimits {
			continue
		}
		for _, l := range coreLimitLines(f.Path, f.Text) {
			if l.Value != "0" && l.Domain == "*" {
				others = append(others, fmt.Sprintf("%s:%d: * %s core %s", l.Path, l.Line, l.Type, l.Value))
			}
		}
	}
	checks = append(checks, report.Check{ID: "kernel.core_dumps.other_files", OK: len(others) == 0, Severity: report.Warn,
		Want: "no other limit", Got: fmt.Sprintf("%d line(s)", len(others)), Detail: strings.Join(others, "; "),
		Refs: ssgRefs("disable_users_coredumps")})
	if env.Distro.ServiceManager == distro.Systemd {
		// systemd-coredump reads coredump.conf and its drop-ins like every
		// systemd daemon (the logging step's evaluator of that merge).
		eff := effectiveSystemdConf(systemdConfFiles(env.Root, "systemd/coredump.conf"), "Coredump")
		for _, s := range []struct{ key, want, rule string }{
			{"Storage", "none", "coredump_disable_storage"},
			{"ProcessSizeMax", "0", "coredump_disable_backtraces"},
		} {
			c := check("kernel.core_dumps.systemd_coredump."+s.key, s.want, eff[s.key].Value)
			c.Detail, c.Refs = eff[s.key].From, ssgRefs(s.rule)
			checks = append(checks, c)
		}
	}
	return checks, nil
}
