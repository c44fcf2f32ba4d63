package steps

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/hardbake/hardbake/bootstrap/distro"
	"github.com/hardbake/hardbake/bootstrap/report"
	"github.com/hardbake/hardbake/bootstrap/runner"
)

// packageManager is the target's package manager (distro's table) with
// this run's lock timeout: the commands steps run, so they say "install
// fail2ban" and never spell apt-get or dnf themselves.
type packageManager struct {
	distro.PackageManager
	lock int // seconds to wait for another instance (updates.lock_timeout)
}

func pkgManager(env *Env) packageManager {
	return packageManager{env.Distro.Packages(), env.Profile.Updates.LockTimeout}
}

func cmd(name string, args ...string) runner.Cmd { return runner.Cmd{Name: name, Args: args} }

// command is the runner command of op (an operation of the table) on pkgs.
// A distribution outside the table (Detect never returns one) has no
// operations: its empty command fails when run.
func (m packageManager) command(op []string, pkgs ...string) runner.Cmd {
	if len(op) == 0 {
		return runner.Cmd{}
	}
	argv := distro.Command(op, m.lock, pkgs...)
	return cmd(argv[0], argv[1:]...)
}

// RefreshCmd updates the package lists.
func (m packageManager) RefreshCmd() runner.Cmd { return m.command(m.Refresh) }

// PendingCmd asks which upgrades are pending (after RefreshCmd).
func (m packageManager) PendingCmd() runner.Cmd { return m.command(m.Pending) }

// UpgradeCmd applies every pending upgrade.
func (m packageManager) UpgradeCmd() runner.Cmd { return m.command(m.Upgrade) }

// InstallCmd installs pkgs.
func (m packageManager) InstallCmd(pkgs ...string) runner.Cmd { return m.command(m.Install, pkgs...) }

// RemoveTestCmd asks what removing pkgs would remove.
func (m packageManager) RemoveTestCmd(pkgs ...string) runner.Cmd {
	return m.command(m.RemoveTest, pkgs...)
}

// RemoveCmd removes pkgs and their configuration, nothing else.
func (m packageManager) RemoveCmd(pkgs ...string) runner.Cmd { return m.command(m.Remove, pkgs...) }

// pendingUpgrades reads PendingCmd's result. Some managers answer with an
// exit code: dnf's 100 means "upgrades pending", pacman's 1 with no output
// "none".
func (m packageManager) pendingUpgrades(res runner.Result, err error) ([]string, error) {
	var ee *runner.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee) && m.PendingExit != 0 && ee.Result.ExitCode == m.PendingExit:
		res = ee.Result
	case errors.As(err, &ee) && m.NonePendingExit != 0 && ee.Result.ExitCode == m.NonePendingExit && len(ee.Result.Stdout) == 0:
		return nil, nil
	default:
		return nil, err
	}
	return m.PendingUpgrades(string(res.Stdout)), nil
}

// installed reports which of pkgs are installed. dpkg's and pacman's
// databases are plain files read through the root, so this also works on a
// read-only image; rpm's is a database only rpm reads.
func installed(ctx context.Context, env *Env, pkgs ...string) (map[string]bool, error) {
	m := env.Distro.Packages()
	got := map[string]bool{}
	switch {
	case m.StatusFile != "":
		data, err := env.Root.ReadFile(m.StatusFile)
		if err != nil && !isNotExist(err) {
			return nil, err
		}
		for _, stanza := range strings.Split(string(data), "\n\n") {
			var name, status string
			for _, l := range strings.Split(stanza, "\n") {
				if v, ok := strings.CutPrefix(l, "Package: "); ok {
					name = v
				} else if v, ok := strings.CutPrefix(l, "Status: "); ok {
					status = v
				}
			}
			if slices.Contains(pkgs, name) && strings.HasSuffix(status, " installed") && !strings.HasSuffix(status, " not-installed") {
				got[name] = true
			}
		}
	case m.LocalDB != "":
		entries, err := env.Root.ReadDir(m.LocalDB)
		if err != nil && !isNotExist(err) {
			return nil, err
		}
		for _, e := range entries {
			// Directories are name-pkgver-pkgrel; names may hold dashes.
			parts := strings.Split(e.Name(), "-")
			if len(parts) < 3 {
				continue
			}
			if name := strings.Join(parts[:len(parts)-2], "-"); slices.Contains(pkgs, name) {
				got[name] = true
			}
		}
	case m.Query != nil:
		if !env.CanRun() {
			return nil, fmt.Errorf("cannot ask %s which packages are installed in a read-only image", m.Query[0])
		}
		// Exit 1 names the packages that are not installed.
		res, err := env.Run.Run(ctx, pkgManager(env).command(m.Query, pkgs...))
		var ee *runner.ExitError
		if err != nil && !errors.As(err, &ee) {
			return nil, err
		} else if ee != nil {
			res = ee.Result
		}
		for _, l := range strings.Split(string(res.Stdout), "\n") {
			if l = strings.TrimSpace(l); slices.Contains(pkgs, l) {
				got[l] = true
			}
		}
	default:
		return nil, fmt.Errorf("unknown package manager %q", env.Distro.PackageManager)
	}
	return got, nil
}

// packagesCheck is the check id: every one of pkgs is installed.
func packagesCheck(ctx context.Context, env *Env, id string, pkgs []string) (report.Check, error) {
	need, err := missing(ctx, env, pkgs...)
	if err != nil {
		return report.Check{}, err
	}
	got := "installed"
	if len(need) > 0 {
		got = "missing: " + strings.Join(need, " ")
	}
	return check(id, "installed", got), nil
}

// missing returns the pkgs that are not installed, in order.
func missing(ctx context.Context, env *Env, pkgs ...string) ([]string, error) {
	have, err := installed(ctx, env, pkgs...)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, p := range pkgs {
		if !have[p] {
			out = append(out, p)
		}
	}
	return out, nil
}

// installAction plans installing whatever of pkgs is missing (nil: nothing).
func installAction(ctx context.Context, env *Env, summary string, pkgs ...string) (*Action, error) {
	need, err := missing(ctx, env, pkgs...)
	if err != nil || len(need) == 0 {
		return nil, err
	}
	return &Action{Kind: "run", Cmd: pkgManager(env).InstallCmd(need...), Summary: summary}, nil
}
