package steps

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/hardbake/hardbake/bootstrap/distro"
	"github.com/hardbake/hardbake/bootstrap/ini"
	"github.com/hardbake/hardbake/bootstrap/report"
	"github.com/hardbake/hardbake/bootstrap/runner"
)

// Updates brings the system up to date at bake and turns on automatic
// security-only updates: unattended-upgrades (Debian, Ubuntu), dnf-automatic
// (Fedora, RHEL family). Arch has no such mechanism: Check says so as a
// warning instead of pretending.
type Updates struct{}

// Name implements Step.
func (Updates) Name() string { return "updates" }

// autoPackages is what automatic updates need installed.
func (Updates) autoPackages(env *Env) []string {
	if !env.Profile.Updates.Automatic {
		return nil
	}
	switch env.Distro.AutoUpdates {
	case distro.UnattendedUpgrades:
		if env.Distro.ServiceManager != distro.Systemd {
			// No apt-daily timers without systemd: cron runs apt's daily
			// job (/etc/cron.daily/apt-compat), and minimal roots lack it.
			return []string{"unattended-upgrades", "cron"}
		}
		return []string{"unattended-upgrades"}
	case distro.DNFAutomatic:
		return []string{dnfAutomaticFor(env.Distro).Package}
	}
	return nil
}

// configure plans the automatic-update configuration from the files as they
// are now (after the package is installed, its defaults exist).
func (u Updates) configure(ctx context.Context, env *Env) ([]Action, error) {
	p := env.Profile.Updates
	if !p.Automatic {
		return nil, nil
	}
	var actions []Action
	switch env.Distro.AutoUpdates {
	case distro.UnattendedUpgrades:
		a, err := WriteFile(env.Root, UnattendedUpgradesConf, []byte(unattendedUpgradesConfig(env.Distro, p)), 0o644,
			"unattended-upgrades: security archive only, periodic runs on")
		if err != nil {
			return nil, err
		}
		actions = appendAction(actions, a)
		actions = appendAction(actions, enableAction(env, "timers that run unattended-upgrades", "apt-daily.timer", "apt-daily-upgrade.timer"))
		if len(actions) > 0 {
			actions = append(actions, Action{
				Kind: "validate", Summary: "apt-config dump shows only the security origin",
				Cmd: cmd("apt-config", "dump"),
				Validate: func(ctx context.Context) error {
					m, _, err := aptConfig(ctx, env)
					if err != nil {
						return err
					}
					if got, want := aptOrigins(m), securityOriginsOf(env); !slices.Equal(got, want) {
						return fmt.Errorf("unattended-upgrades origins are %q, want only %q", got, want)
					}
					return nil
				},
			})
		}
	case distro.DNFAutomatic:
		da := dnfAutomaticFor(env.Distro)
		settings := dnfAutomaticSettings(p, da.knowsReboot(env.Root))
		files := []string{da.Config}
		for _, f := range da.Legacy {
			if env.Root.Exists(f) {
				files = append(files, f)
			}
		}
		for _, f := range files {
			old, err := env.Root.ReadFile(f)
			if err != nil && !isNotExist(err) {
				return nil, err
			}
			text := string(old)
			if len(old) == 0 {
				text = dnfOverrideHeader
			}
			for _, kv := range settings {
				text = ini.Set(text, ini.DNF, "commands", kv[0], kv[1])
			}
			a, err := WriteFile(env.Root, f, []byte(text), 0o644, "dnf automatic: apply security updates")
			if err != nil {
				return nil, err
			}
			actions = appendAction(actions, a)
		}
		actions = appendAction(actions, enableAction(env, "timer that runs dnf automatic", da.Timer))
	}
	return actions, nil
}

// aptConfig is what apt's configuration holds for the keys the checks read:
// the target's own `apt-config dump` where it can run, otherwise (a read-only
// image) the same computed from the files. The second result says which.
func aptConfig(ctx context.Context, env *Env) (map[string][]string, string, error) {
	if _, ok := runner.Lookup(env.Root.HostPath("/"), "apt-config"); ok && env.CanRun() {
		res, err := env.Run.Run(ctx, cmd("apt-config", "dump"))
		if err != nil {
			return nil, "", err
		}
		return aptConfigDump(string(res.Stdout)), "apt-config dump", nil
	}
	return offlineAptConfig(env.Root), "computed from " + aptConfParts, nil
}

// securityOriginsOf is the only origin unattended-upgrades may use on env's release.
func securityOriginsOf(env *Env) []string {
	_, want := securityOrigins(env.Distro)
	return want
}

// aptOrigins are the origins unattended-upgrades uses.
func aptOrigins(m map[string][]string) []string {
	return append(append([]string{}, m["Unattended-Upgrade::Origins-Pattern::"]...), m["Unattended-Upgrade::Allowed-Origins::"]...)
}

// Plan implements Step. Whether upgrades are pending is only known after
// refreshing the package lists, which plan does not do: the upgrade command
// is always shown, and bake reports it only when it upgraded something.
func (u Updates) Plan(ctx context.Context, env *Env) ([]Action, error) {
	var actions []Action
	pm := pkgManager(env)
	if env.Profile.Updates.Upgrade {
		actions = append(actions,
			Action{Kind: "run", Cmd: pm.RefreshCmd(), Summary: "refresh the package lists"},
			Action{Kind: "run", Cmd: pm.UpgradeCmd(), Summary: "apply pending upgrades, if any"})
	}
	more, err := planWithPackages(ctx, env, "install automatic security updates", [][]string{u.autoPackages(env)},
		func() ([]Action, error) { return u.configure(ctx, env) })
	return append(actions, more...), err
}

// Apply implements Step.
func (u Updates) Apply(ctx context.Context, env *Env) ([]report.Change, error) {
	var upgraded []report.Change
	pm := pkgManager(env)
	if env.Profile.Updates.Upgrade {
		err := withPackages(ctx, env, func() error {
			if err := refreshOnce(ctx, env); err != nil {
				return err
			}
			pending, err := pm.pendingUpgrades(env.Run.Run(ctx, pm.PendingCmd()))
			if err != nil {
				return err
			}
			if len(pending) == 0 {
				env.logf("  no pending upgrades")
				return nil
			}
			env.logf("  upgrading %d package(s)", len(pending))
			if _, err := env.Run.Run(ctx, pm.UpgradeCmd()); err != nil {
				return err
			}
			upgraded = append(upgraded, report.Change{Kind: "run", Command: pm.UpgradeCmd().String(),
				Summary: fmt.Sprintf("upgraded %d package(s): %s", len(pending), abbreviate(pending, 10))})
			return nil
		})
		if err != nil {
			return upgraded, err
		}
	}
	changes, err := applyWithPackages(ctx, env, "install automatic security updates", [][]string{u.autoPackages(env)},
		func() ([]Action, error) { return u.configure(ctx, env) })
	return append(upgraded, changes...), err
}

func abbreviate(list []string, n int) string {
	if len(list) <= n {
		return strings.Join(list, ", ")
	}
	return strings.Join(list[:n], ", ") + fmt.Sprintf(" and %d more", len(list)-n)
}

// Check implements Step.
func (u Updates) Check(ctx context.Context, env *Env) ([]report.Check, error) {
	p := env.Profile.Updates
	if !p.Automatic {
		return nil, nil
	}
	var checks []report.Check
	pkgs := u.autoPackages(env)
	if len(pkgs) > 0 {
		pc, err := packagesCheck(ctx, env, "updates.package", pkgs)
		if err != nil {
			return nil, err
		}
		checks = append(checks, pc)
	}
	switch env.Distro.AutoUpdates {
	case distro.UnattendedUpgrades:
		_, want := securityOrigins(env.Distro)
		m, detail, err := aptConfig(ctx, env)
		if err != nil {
			return nil, err
		}
		got := aptOrigins(m)
		var periodic []string
		for _, kv := range aptPeriodicWant {
			k, _, _ := strings.Cut(kv, "=")
			periodic = append(periodic, k+"="+strings.Join(m[k], ","))
		}
		checks = append(checks, check("updates.periodic", strings.Join(aptPeriodicWant, " "), strings.Join(periodic, " ")),
			check("updates.keep_local_conffiles", "yes", yesNo(dpkgKeepsConffiles(m))),
			check("updates.automatic_reboot", fmt.Sprint(p.AutomaticReboot), strings.Join(m["Unattended-Upgrade::Automatic-Reboot"], ",")))
		c := check("updates.origins", strings.Join(want, " "), strings.Join(got, " "))
		c.Detail = detail
		checks = append(checks, c)
		for _, t := range []string{"apt-daily.timer", "apt-daily-upgrade.timer"} {
			checks = append(checks, check("updates.timer."+t, "enabled", enabledWord(unitEnabled(env, t))))
		}
	case distro.DNFAutomatic:
		da := dnfAutomaticFor(env.Distro)
		knowsReboot := da.knowsReboot(env.Root)
		for _, kv := range dnfAutomaticSettings(p, knowsReboot) {
			got, from := da.effective(env.Root, "commands", kv[0])
			c := check("updates.dnf_automatic."+kv[0], kv[1], got)
			c.Detail = from
			checks = append(checks, c)
		}
		if !knowsReboot && p.AutomaticReboot {
			// Never rebooting is all this dnf automatic can do.
			checks = append(checks, report.Check{ID: "updates.dnf_automatic.reboot", OK: false, Severity: report.Warn,
				Want: "when-needed (updates.automatic_reboot: true)",
				Got:  "this dnf automatic has no reboot option (its " + da.Config + " has no reboot key; added in dnf 4.14.0-6 / RHEL 9.3): reboot after kernel updates yourself"})
		}
		// An older dnf5's override file, when present, must agree too:
		// which file wins has changed between dnf5 releases.
		for _, f := range da.Legacy {
			data, err := env.Root.ReadFile(f)
			if err != nil {
				continue
			}
			c := check("updates.dnf_automatic.legacy_upgrade_type", "security", ini.Parse(string(data), ini.DNF).Value("commands", "upgrade_type"))
			c.Detail = f
			checks = append(checks, c)
		}
		checks = append(checks, check("updates.timer."+da.Timer, "enabled", enabledWord(unitEnabled(env, da.Timer))))
	default:
		checks = append(checks, report.Check{ID: "updates.automatic", OK: false, Severity: report.Warn,
			Want: "automatic security updates",
			Got:  env.Distro.ID + " has no automatic security-update mechanism; upgrade regularly (pacman -Syu) and follow security advisories"})
	}
	return checks, nil
}

func enabledWord(b bool) string {
	if b {
		return "enabled"
	}
	return "not enabled"
}
