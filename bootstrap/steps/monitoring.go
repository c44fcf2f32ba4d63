package steps

import (
	"context"
	"fmt"

	"github.com/hardbake/hardbake/bootstrap/distro"
	"github.com/hardbake/hardbake/bootstrap/profile"
	"github.com/hardbake/hardbake/bootstrap/report"
	"github.com/hardbake/hardbake/bootstrap/root"
)

// Monitoring installs hardbake-audit.service and hardbake-audit.timer
// (monitoring_units.go), so every machine started from the image can audit
// itself and leave the result for node_exporter, and enables the timer when
// the profile asks (monitoring.audit_timer; off by default). The service
// runs the hardbake binary the image carries (FirstbootBinary, copied here
// too when the firstboot step is skipped) against the baked profile.
// Without systemd there is no timer; audit says how to run it from cron.
type Monitoring struct{}

// Name implements Step.
func (Monitoring) Name() string { return "monitoring" }

func (Monitoring) serviceText(env *Env) string {
	return AuditServiceUnit(FirstbootBinary, env.Profile.Monitoring.TextfileDir)
}

func (Monitoring) timerText(env *Env) string {
	return AuditTimerUnit(env.Profile.Monitoring.Interval)
}

func (m Monitoring) plan(env *Env) ([]Action, []byte, error) {
	if env.Distro.ServiceManager != distro.Systemd {
		return nil, nil, nil
	}
	var actions []Action
	bin, data, err := binaryAction(env)
	if err != nil {
		return nil, nil, err
	}
	actions = appendAction(actions, bin)
	prof, err := profile.Baked(env.Profile)
	if err != nil {
		return nil, nil, err
	}
	for _, w := range []struct{ path, text, summary string }{
		// The same bytes the firstboot step writes: whichever runs second
		// finds the file as it wants it.
		{BakedProfile, string(prof), "the baked profile, which the audit service audits against"},
		{AuditService, m.serviceText(env), "audit service: writes the metrics for node_exporter"},
		{AuditTimer, m.timerText(env), "audit timer"},
	} {
		a, err := WriteFile(env.Root, w.path, []byte(w.text), 0o644, w.summary)
		if err != nil {
			return nil, nil, err
		}
		actions = appendAction(actions, a)
	}
	p := env.Profile.Monitoring
	if !p.AuditTimer {
		// Off leaves the timer as it is: a host where an admin enabled it
		// keeps it.
		return actions, data, nil
	}
	if !env.Root.Exists(p.TextfileDir) {
		// node_exporter's package makes it too (and keeps an existing one);
		// without it the service skips every run.
		actions = append(actions, Action{Kind: "run", Cmd: cmd("mkdir", "-p", "-m", "0755", p.TextfileDir),
			Summary: "node_exporter's textfile directory, where the audit service writes " + AuditMetricsFile})
	}
	enable := enableAction(env, fmt.Sprintf("audit every %d minutes for Prometheus", p.Interval), AuditTimerName)
	actions = appendAction(actions, enable)
	if enable != nil && env.Live() {
		// A timer only schedules: starting it is safe on a live host.
		actions = append(actions, Action{Kind: "run", Cmd: cmd("systemctl", "start", AuditTimerName), Summary: "start the audit timer"})
	}
	return actions, data, nil
}

// Plan implements Step.
func (m Monitoring) Plan(ctx context.Context, env *Env) ([]Action, error) {
	actions, _, err := m.plan(env)
	return actions, err
}

// Apply implements Step.
func (m Monitoring) Apply(ctx context.Context, env *Env) ([]report.Change, error) {
	if !env.Root.Writable() {
		return nil, root.ErrReadOnly
	}
	actions, data, err := m.plan(env)
	if err != nil {
		return nil, err
	}
	return executeWithBinary(ctx, env, actions, data)
}

// Check implements Step.
func (m Monitoring) Check(ctx context.Context, env *Env) ([]report.Check, error) {
	p := env.Profile.Monitoring
	if env.Distro.ServiceManager != distro.Systemd {
		if !p.AuditTimer {
			return nil, nil
		}
		c := check("monitoring.timer", "systemd timer", "no systemd: run `"+auditCommand(FirstbootBinary, p.TextfileDir)+"` from cron")
		c.Severity = report.Warn
		return []report.Check{c}, nil
	}
	checks := []report.Check{
		unitFileCheck(env, "monitoring.service", AuditService, m.serviceText(env)),
		unitFileCheck(env, "monitoring.timer", AuditTimer, m.timerText(env)),
	}
	if p.AuditTimer {
		dir := "missing"
		if fi, err := env.Root.Stat(p.TextfileDir); err == nil && fi.IsDir() {
			dir = "present"
		}
		checks = append(checks,
			check("monitoring.timer_enabled", "enabled", enabledWord(unitEnabled(env, AuditTimerName))),
			check("monitoring.textfile_dir", "present", dir))
	}
	return checks, nil
}

// unitFileCheck compares an installed file with the text this hardbake
// writes.
func unitFileCheck(env *Env, id, path, text string) report.Check {
	data, err := env.Root.ReadFile(path)
	state := "installed"
	switch {
	case err != nil:
		state = "missing"
	case string(data) != text:
		state = "differs from this hardbake's"
	}
	return check(id, "installed", state)
}

// executeWithBinary runs actions, writing each "copy" action (the hardbake
// binary, which has no diff to show) with data; the firstboot and
// monitoring steps install the binary this way.
func executeWithBinary(ctx context.Context, env *Env, actions []Action, data []byte) ([]report.Change, error) {
	var changes []report.Change
	var rest []Action
	for _, a := range actions {
		if a.Kind != "copy" {
			rest = append(rest, a)
			continue
		}
		if err := env.Root.MkdirAll(parentDir(a.Path), 0o755, root.RootOwner); err != nil {
			return nil, err
		}
		if err := env.Root.WriteFile(a.Path, data, a.Mode, a.Owner); err != nil {
			return nil, err
		}
		env.logf("  copied %s", a.Path)
		changes = append(changes, a.Change())
	}
	done, err := Execute(ctx, env, rest)
	return append(changes, done...), err
}
