package steps

import (
	"context"
	"io/fs"
	"strings"

	"github.com/hardbake/hardbake/bootstrap/distro"
	"github.com/hardbake/hardbake/bootstrap/report"
	"github.com/hardbake/hardbake/bootstrap/root"
)

// AIDE's periodic check where the distribution ships none (Fedora, RHEL):
// the unit names SSG's aide_periodic_checking_systemd_timer looks for.
const (
	AIDECheckService = "/etc/systemd/system/aidecheck.service"
	AIDECheckTimer   = "/etc/systemd/system/aidecheck.timer"
	aideCheckService = "# Written by hardbake: compare the files with AIDE's database.\n[Unit]\nDescription=AIDE check\n\n[Service]\nType=oneshot\nExecStart=/usr/sbin/aide --check\n"
	aideCheckTimer   = "# Written by hardbake: AIDE's daily check.\n[Unit]\nDescription=Daily AIDE check\n\n[Timer]\nOnCalendar=daily\nRandomizedDelaySec=2h\nPersistent=true\n\n[Install]\nWantedBy=timers.target\n"
)

// aideTimer is the unit that runs the periodic check.
func aideTimer(env *Env) string {
	if t := auditFamilyOf(env.Distro).aideTimer; t != "" {
		return t
	}
	return "aidecheck.timer"
}

// sbinDir is where the audit tools are for AIDE, which does not follow a
// symlinked /sbin (merged /usr): /usr/sbin there, /sbin otherwise.
func sbinDir(env *Env) string {
	if fi, err := env.Root.Lstat("/sbin"); err == nil && fi.Mode()&fs.ModeSymlink != 0 {
		return "/usr/sbin"
	}
	return "/sbin"
}

// aideConfigActions plans AIDE's configuration block, its test, and the
// periodic check.
func (Audit) aideConfigActions(env *Env) ([]Action, error) {
	f := auditFamilyOf(env.Distro)
	if len(f.aidePackages) == 0 {
		return nil, nil
	}
	old, err := env.Root.ReadFile(f.aideConf)
	if err != nil && !isNotExist(err) {
		return nil, err
	}
	mode := fs.FileMode(0o600)
	if fi, err := env.Root.Stat(f.aideConf); err == nil {
		mode = fi.Mode().Perm()
	}
	var actions []Action
	w, err := WriteFile(env.Root, f.aideConf, []byte(setAIDEBlock(string(old), aideBlock(sbinDir(env)))), mode,
		"AIDE: watch the audit tools, leave out what each new machine changes")
	if err != nil {
		return nil, err
	}
	if w != nil {
		configCheck := cmd("aide", "--config-check", "--config="+f.aideConf)
		actions = append(actions, *w, Action{Kind: "validate", Summary: "aide --config-check accepts the configuration", Cmd: configCheck,
			Validate: func(ctx context.Context) error { _, err := env.Run.Run(ctx, configCheck); return err }})
	}
	if f.aideTimer == "" && env.Distro.ServiceManager == distro.Systemd {
		for _, u := range []struct{ path, text string }{{AIDECheckService, aideCheckService}, {AIDECheckTimer, aideCheckTimer}} {
			w, err := WriteFile(env.Root, u.path, []byte(u.text), 0o644, "AIDE's daily check")
			if err != nil {
				return nil, err
			}
			actions = appendAction(actions, w)
		}
	}
	return appendAction(actions, aidePeriodicAction(env)), nil
}

// aidePeriodicAction enables the daily check: the timer under systemd; on
// SysV Debian's /etc/cron.daily/aide, so cron must start at boot.
func aidePeriodicAction(env *Env) *Action {
	if env.Distro.ServiceManager == distro.Systemd {
		return enableAction(env, "run AIDE's check daily", aideTimer(env))
	}
	return enableAction(env, "start cron at boot: it runs AIDE's daily check", "cron.service")
}

// aideDatabaseAction builds the database when it is missing or this run
// changed the image (packages, rules). Debian's aideinit runs AIDE as its
// _aide user, whose daily check must read it.
func (Audit) aideDatabaseAction(env *Env, changed bool) *Action {
	f := auditFamilyOf(env.Distro)
	if !env.Profile.Audit.AIDE || len(f.aidePackages) == 0 || (!changed && env.Root.Exists(f.aideDB)) {
		return nil
	}
	c := cmd("sh", "-c", "aide --init --config="+f.aideConf+" && mv -f "+f.aideDB+".new "+f.aideDB)
	if env.Distro.Family == distro.Fedora || env.Distro.Family == distro.RHEL {
		// aide.db.new.gz becomes aide.db.gz.
		c = cmd("sh", "-c", "aide --init --config="+f.aideConf+" && mv -f /var/lib/aide/aide.db.new.gz "+f.aideDB)
	} else if env.Root.Exists("/usr/sbin/aideinit") {
		// aideinit writes its logs under /var/log/aide with the caller's
		// umask: closed to others, as CIS wants every log.
		c = cmd("sh", "-c", "umask 027 && aideinit --yes --force && find /var/log/aide -type f -exec chmod o-rwx {} +")
	}
	return &Action{Kind: "run", Cmd: c, Summary: "build AIDE's database of the image (" + f.aideDB + ")"}
}

// aideChecks verifies AIDE: package, configuration, database, schedule.
func (Audit) aideChecks(ctx context.Context, env *Env) ([]report.Check, error) {
	f := auditFamilyOf(env.Distro)
	if len(f.aidePackages) == 0 {
		c := check("aide.packages", "installed", "not in "+env.Distro.ID+"'s archive")
		c.Severity, c.Refs = report.Warn, auditRefs("package_aide_installed")
		return []report.Check{c}, nil
	}
	pc, err := packagesCheck(ctx, env, "aide.packages", f.aidePackages)
	if err != nil {
		return nil, err
	}
	pc.Refs = append(auditRefs("package_aide_installed"), "lynis:FINT-4350")
	checks := []report.Check{pc}
	conf, _ := env.Root.ReadFile(f.aideConf)
	block := check("aide.config", "audit tools watched, first-boot files left out", "audit tools watched, first-boot files left out")
	if setAIDEBlock(string(conf), aideBlock(sbinDir(env))) != string(conf) {
		block = check("aide.config", "audit tools watched, first-boot files left out", f.aideConf+" lacks hardbake's block")
	}
	checks = append(checks, withSSG(block, "aide_check_audit_tools"))
	if env.CanRun() && pc.OK {
		c := check("aide.config_check", "aide --config-check accepts it", "aide --config-check accepts it")
		if _, err := env.Run.Run(ctx, cmd("aide", "--config-check", "--config="+f.aideConf)); err != nil {
			c = check("aide.config_check", "aide --config-check accepts it", firstLine(err))
			if !env.Live() && (strings.Contains(err.Error(), "machine-ID") || strings.Contains(err.Error(), "boot-ID")) {
				// Debian 13's aide configuration asks systemd-id128 for
				// the machine ID (empty in an image) and the boot ID
				// (/proc). bake lends both while it judges; audit changes
				// nothing, not even for a moment. A booted machine has both.
				c.Got = "not judged offline: Debian 13's aide configuration needs the machine and boot IDs, which an image has only once booted (bake judged it with both lent)"
				c.Severity = report.Warn
			}
		}
		checks = append(checks, c)
	}
	db := "built"
	if fi, err := env.Root.Stat(f.aideDB); err != nil || fi.Size() == 0 {
		db = "missing: " + f.aideDB
	}
	checks = append(checks, withSSG(check("aide.database", "built", db), "aide_build_database"))
	if env.Distro.ServiceManager == distro.Systemd {
		checks = append(checks, withSSG(check("aide.periodic_check", "enabled", enabledWord(unitEnabled(env, aideTimer(env)))),
			"aide_periodic_checking_systemd_timer"))
	} else {
		daily := "enabled"
		if !env.Root.Exists("/etc/cron.daily/aide") || !unitEnabled(env, "cron.service") {
			daily = "/etc/cron.daily/aide with cron at boot: missing"
		}
		checks = append(checks, withSSG(check("aide.periodic_check", "enabled", daily), "aide_periodic_cron_checking"))
	}
	return checks, nil
}

// MachineID is systemd's machine ID file; empty in an image, so that each
// machine made from it gets its own at first boot.
const MachineID = "/etc/machine-id"

// aidePlaceholderID is lent to an image without a machine ID while AIDE
// runs in it ("Hardbake aide" in hex): Debian 13's aide configuration asks
// systemd-id128 for the machine ID and fails without one. It is
// recognisable, so a run killed before putting the empty file back is
// undone by the next run, as policy-rc.d is.
const aidePlaceholderID = "4861726462616b652061696465000000\n"

// hasMachineID reports whether the root has a machine ID of its own.
func hasMachineID(env *Env) bool {
	data, err := env.Root.ReadFile(MachineID)
	return err == nil && len(strings.TrimSpace(string(data))) > 0 && string(data) != aidePlaceholderID
}

// withMachineID runs fn with a machine ID in the root: its own, or
// aidePlaceholderID for the duration of fn when it has none (never on the
// live system, which always has one). The file is put back as it was
// (empty, or absent) even when fn fails.
func withMachineID(env *Env, fn func() error) error {
	if env.Live() || !env.Root.Writable() || hasMachineID(env) {
		return fn()
	}
	_, err := env.Root.Stat(MachineID)
	existed := err == nil
	if err := env.Root.WriteFile(MachineID, []byte(aidePlaceholderID), 0o444, root.RootOwner); err != nil {
		return err
	}
	defer func() {
		if existed {
			env.Root.WriteFile(MachineID, nil, 0o444, root.RootOwner)
		} else {
			env.Root.Remove(MachineID)
		}
	}()
	return fn()
}
