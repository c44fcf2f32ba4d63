package steps

import (
	"context"
	"fmt"
	"strings"

	"github.com/hardbake/hardbake/bootstrap/distro"
	"github.com/hardbake/hardbake/bootstrap/report"
)

// Audit records what happens on the machine and proves its files unchanged:
// auditd with CIS's rule set loaded at boot (rules judged by the image's
// own auditctl), and AIDE with a database of the baked image and a daily
// check. It runs late (after firstboot, before seal), so AIDE's database
// holds the files every other step wrote.
type Audit struct{}

// Name implements Step.
func (Audit) Name() string { return "audit" }

// auditFamily is what differs between distributions for this step.
type auditFamily struct {
	auditPackages []string
	aidePackages  []string // none: AIDE is not in the distribution's archive
	aideConf      string
	aideDB        string
	// aideTimer is the unit of the distribution's periodic check.
	aideTimer string
	macPolicy []string
}

func auditFamilyOf(d distro.Info) auditFamily {
	switch d.Family {
	case distro.Fedora, distro.RHEL:
		return auditFamily{
			auditPackages: []string{"audit"},
			aidePackages:  []string{"aide"},
			aideConf:      "/etc/aide.conf",
			aideDB:        "/var/lib/aide/aide.db.gz",
			macPolicy:     []string{"/etc/selinux", "/usr/share/selinux"},
		}
	case distro.Arch:
		// AIDE left Arch's archive for the AUR.
		return auditFamily{auditPackages: []string{"audit"}, macPolicy: []string{"/etc/apparmor", "/etc/apparmor.d"}}
	default:
		return auditFamily{
			auditPackages: []string{"auditd", "audispd-plugins"},
			aidePackages:  []string{"aide", "aide-common"},
			aideConf:      "/etc/aide/aide.conf",
			aideDB:        "/var/lib/aide/aide.db",
			aideTimer:     "dailyaidecheck.timer",
			macPolicy:     []string{"/etc/apparmor", "/etc/apparmor.d"},
		}
	}
}

// packages are the packages the profile asks for, in one phase.
func (Audit) packages(env *Env) [][]string {
	f, p := auditFamilyOf(env.Distro), env.Profile.Audit
	var pkgs []string
	if p.Auditd {
		pkgs = append(pkgs, f.auditPackages...)
	}
	if p.AIDE {
		pkgs = append(pkgs, f.aidePackages...)
	}
	return [][]string{pkgs}
}

// ruleSet reads what the rules depend on from the root.
func (Audit) ruleSet(ctx context.Context, env *Env) (auditRuleSet, error) {
	arches, missing := auditArches()
	missing = auditNewSyscalls(ctx, env, arches, missing)
	defs, _ := env.Root.ReadFile("/etc/login.defs")
	var sudoers []string
	files, _ := env.Root.Glob("/etc/sudoers.d/*")
	for _, f := range append([]string{"/etc/sudoers"}, files...) {
		data, _ := env.Root.ReadFile(f)
		sudoers = append(sudoers, string(data))
	}
	priv, err := privilegedPrograms(env.Root)
	if err != nil {
		return auditRuleSet{}, fmt.Errorf("looking for setuid programs: %w", err)
	}
	return auditRuleSet{
		Arches: arches, Missing: missing, UIDMin: uidMin(string(defs)),
		MACPolicy: auditFamilyOf(env.Distro).macPolicy, SudoLog: sudoLog(sudoers...), Privileged: priv,
	}, nil
}

// configure plans the files and commands with the packages in place:
// every file and its judge (auditctl, aide --config-check) first, then the
// commands (augenrules, enabling units, update-grub), so a refused file
// puts all files back before any command changed the image.
func (a Audit) configure(ctx context.Context, env *Env) ([]Action, error) {
	actions, err := a.configureUnordered(ctx, env)
	if err != nil {
		return nil, err
	}
	var files, runs []Action
	for _, act := range actions {
		if act.Kind == "run" {
			runs = append(runs, act)
		} else {
			files = append(files, act)
		}
	}
	return append(files, runs...), nil
}

func (a Audit) configureUnordered(ctx context.Context, env *Env) ([]Action, error) {
	var actions []Action
	if env.Profile.Audit.Auditd {
		more, err := a.auditdActions(ctx, env)
		if err != nil {
			return nil, err
		}
		actions = append(actions, more...)
	}
	if env.Profile.Audit.AIDE {
		more, err := a.aideConfigActions(env)
		if err != nil {
			return nil, err
		}
		actions = append(actions, more...)
	}
	return actions, nil
}

// Plan implements Step.
func (a Audit) Plan(ctx context.Context, env *Env) ([]Action, error) {
	actions, err := planWithPackages(ctx, env, "install auditd and AIDE", a.packages(env),
		func() ([]Action, error) { return a.configure(ctx, env) })
	if err != nil {
		return nil, err
	}
	return appendAction(actions, a.aideDatabaseAction(env, len(actions) > 0)), nil
}

// Apply implements Step. AIDE's database is built last, inside the package
// session (Debian 13's aide configuration reads the boot ID from /proc;
// /proc and /sys are left out of the database by Debian's rules, /dev by
// ours), and with a machine ID lent to an image that has none.
func (a Audit) Apply(ctx context.Context, env *Env) ([]report.Change, error) {
	var changes []report.Change
	err := withMachineID(env, func() error {
		var all []string
		for _, p := range a.packages(env) {
			all = append(all, p...)
		}
		need, err := missing(ctx, env, all...)
		if err != nil {
			return err
		}
		changes, err = applyWithPackages(ctx, env, "install auditd and AIDE", a.packages(env), func() ([]Action, error) {
			actions, err := a.configure(ctx, env)
			if err != nil {
				return nil, err
			}
			return appendAction(actions, a.aideDatabaseAction(env, len(need) > 0 || len(actions) > 0)), nil
		})
		return err
	})
	return changes, err
}

// Check implements Step.
func (a Audit) Check(ctx context.Context, env *Env) ([]report.Check, error) {
	var checks []report.Check
	if env.Profile.Audit.Auditd {
		more, err := a.auditdChecks(ctx, env)
		if err != nil {
			return nil, err
		}
		checks = append(checks, more...)
	}
	if env.Profile.Audit.AIDE {
		more, err := a.aideChecks(ctx, env)
		if err != nil {
			return nil, err
		}
		checks = append(checks, more...)
	}
	return checks, nil
}

// Deviations implements Deviator.
func (a Audit) Deviations(env *Env) []report.Deviation {
	p := env.Profile.Audit
	var d []report.Deviation
	if p.Auditd && p.AdminSpaceLeftAction != "halt" {
		d = append(d, report.Deviation{Refs: []string{"ssg:auditd_data_retention_admin_space_left_action"},
			Reason: fmt.Sprintf("auditd's admin_space_left_action is %s (audit.admin_space_left_action), not CIS's halt: a cloud machine that halts because its audit log filled the disk is unreachable until someone restarts it; auditd stops writing and alerts syslog instead", p.AdminSpaceLeftAction)})
	}
	if p.Auditd && p.DiskFullAction != "halt" && p.DiskFullAction != "single" {
		d = append(d, report.Deviation{Refs: []string{"ssg:auditd_data_disk_full_action"},
			Reason: fmt.Sprintf("auditd's disk_full_action is %s (audit.disk_full_action), not CIS's halt or single: both take a cloud machine off the network over a full audit disk", p.DiskFullAction)})
	}
	if p.AIDE && len(auditFamilyOf(env.Distro).aidePackages) == 0 {
		d = append(d, report.Deviation{Refs: []string{"ssg:package_aide_installed", "ssg:aide_build_database", "ssg:aide_periodic_checking_systemd_timer"},
			Reason: "AIDE is not in " + env.Distro.ID + "'s package archive (Arch moved it to the AUR); hardbake installs packages only from the distribution"})
	}
	if p.AIDE && auditFamilyOf(env.Distro).aideTimer == "dailyaidecheck.timer" && env.Distro.ServiceManager == distro.Systemd {
		d = append(d, report.Deviation{Refs: []string{"ssg:aide_periodic_checking_systemd_timer"},
			Reason: "the daily check is the distribution's dailyaidecheck.timer, enabled (audit checks it); SSG asks systemd for units named aidecheck.service and aidecheck.timer, its own remediation's names, so a scan of a running machine reports them missing (offline the rule is unknown)"})
	}
	if p.AIDE && env.Distro.Family == distro.Debian && env.Distro.VersionID == "12" {
		d = append(d, report.Deviation{Refs: []string{"ssg:aide_build_database"},
			Reason: "the database is built (/var/lib/aide/aide.db, checked by audit), but SSG's Debian 12 check looks for a \"database=\" line, the name AIDE 0.18 deprecated; Debian's aide.conf says \"database_in=\", which Debian's daily check reads (SSG's Debian 13 check reads it too)"})
	}
	return d
}

// auditRefs turns SSG rule ids into report refs.
func auditRefs(rules ...string) []string {
	out := make([]string, len(rules))
	for i, r := range rules {
		out[i] = "ssg:" + r
	}
	return out
}

// withSSG sets a check's refs.
func withSSG(c report.Check, rules ...string) report.Check {
	c.Refs = auditRefs(rules...)
	return c
}

// withLynis adds Lynis test ids to a check's refs.
func withLynis(c report.Check, tests ...string) report.Check {
	for _, t := range tests {
		c.Refs = append(c.Refs, "lynis:"+t)
	}
	return c
}

// firstLine is a command's error as a check's "got": its first line.
func firstLine(err error) string {
	s, _, _ := strings.Cut(err.Error(), "\n")
	return s
}
