package steps

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/hardbake/hardbake/bootstrap/runner"
)

// packageManager is every package command hardbake runs, per manager, so
// steps say "install fail2ban" and never spell apt-get or dnf themselves.
type packageManager struct {
	name string
	lock int // seconds to wait for another instance (apt's DPkg::Lock::Timeout)
}

func pkgManager(env *Env) packageManager {
	return packageManager{name: env.Distro.PackageManager, lock: env.Profile.Updates.LockTimeout}
}

func cmd(name string, args ...string) runner.Cmd { return runner.Cmd{Name: name, Args: args} }

// aptGet adds the options every apt-get run needs: wait for the dpkg lock
// instead of failing with "Could not get lock" while apt-daily runs at a
// build VM's boot, and keep the admin's version of changed config files.
func (m packageManager) aptGet(args ...string) runner.Cmd {
	pre := []string{"-q", "-o", "DPkg::Lock::Timeout=" + strconv.Itoa(m.lock),
		"-o", "Dpkg::Options::=--force-confdef", "-o", "Dpkg::Options::=--force-confold"}
	return cmd("apt-get", append(pre, args...)...)
}

// Refresh updates the package lists.
func (m packageManager) Refresh() runner.Cmd {
	switch m.name {
	case "apt":
		return m.aptGet("update")
	case "dnf":
		return cmd("dnf", "-q", "makecache", "--refresh")
	default:
		return cmd("pacman", "-Sy", "--noconfirm")
	}
}

// Pending asks which upgrades are pending (after Refresh).
func (m packageManager) Pending() runner.Cmd {
	switch m.name {
	case "apt":
		return m.aptGet("-s", "dist-upgrade")
	case "dnf":
		return cmd("dnf", "-q", "check-update")
	default:
		return cmd("pacman", "-Qu")
	}
}

// pendingUpgrades reads Pending's result: apt's "Inst pkg" lines, dnf's
// exit code 100 with a package list, pacman's "pkg old -> new" lines.
func (m packageManager) pendingUpgrades(res runner.Result, err error) ([]string, error) {
	var ee *runner.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee) && m.name == "dnf" && ee.Result.ExitCode == 100:
		res = ee.Result
	case errors.As(err, &ee) && m.name == "pacman" && ee.Result.ExitCode == 1 && len(ee.Result.Stdout) == 0:
		return nil, nil // pacman -Qu: nothing to upgrade
	default:
		return nil, err
	}
	var out []string
	sc := bufio.NewScanner(strings.NewReader(string(res.Stdout)))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		switch {
		case m.name == "apt" && len(f) > 1 && f[0] == "Inst":
			out = append(out, f[1])
		case m.name == "dnf" && len(f) == 3 && !strings.HasSuffix(f[0], ":"):
			out = append(out, f[0])
		case m.name == "pacman" && len(f) >= 4 && f[2] == "->":
			out = append(out, f[0])
		}
	}
	return out, nil
}

// Upgrade applies every pending upgrade non-interactively.
func (m packageManager) Upgrade() runner.Cmd {
	switch m.name {
	case "apt":
		return m.aptGet("-y", "dist-upgrade")
	case "dnf":
		return cmd("dnf", "-y", "upgrade")
	default:
		return cmd("pacman", "-Su", "--noconfirm")
	}
}

// Install installs packages without recommends (apt) or reinstalls (pacman).
func (m packageManager) Install(pkgs ...string) runner.Cmd {
	switch m.name {
	case "apt":
		return m.aptGet(append([]string{"-y", "--no-install-recommends", "install"}, pkgs...)...)
	case "dnf":
		return cmd("dnf", append([]string{"-y", "install"}, pkgs...)...)
	default:
		return cmd("pacman", append([]string{"-S", "--needed", "--noconfirm"}, pkgs...)...)
	}
}

// RemoveTest asks the package manager what removing pkgs would remove.
func (m packageManager) RemoveTest(pkgs ...string) runner.Cmd {
	switch m.name {
	case "apt":
		return m.aptGet(append([]string{"-s", "purge"}, pkgs...)...)
	case "dnf":
		// rpm refuses when another package needs one of them.
		return cmd("rpm", append([]string{"-e", "--test"}, pkgs...)...)
	default:
		return cmd("pacman", append([]string{"-Rns", "--print", "--print-format", "%n"}, pkgs...)...)
	}
}

// removedBy reads RemoveTest's output: the packages that would go.
func (m packageManager) removedBy(out []byte, pkgs []string) []string {
	switch m.name {
	case "apt":
		var gone []string
		for _, l := range strings.Split(string(out), "\n") {
			if f := strings.Fields(l); len(f) > 1 && (f[0] == "Purg" || f[0] == "Remv") {
				gone = append(gone, f[1])
			}
		}
		return gone
	case "dnf":
		return pkgs
	default:
		return strings.Fields(string(out))
	}
}

// Remove removes pkgs and their configuration, nothing else.
func (m packageManager) Remove(pkgs ...string) runner.Cmd {
	switch m.name {
	case "apt":
		return m.aptGet(append([]string{"-y", "purge"}, pkgs...)...)
	case "dnf":
		return cmd("dnf", append([]string{"-y", "remove", "--setopt=clean_requirements_on_remove=False"}, pkgs...)...)
	default:
		return cmd("pacman", append([]string{"-Rns", "--noconfirm"}, pkgs...)...)
	}
}

// installed reports which of pkgs are installed. dpkg's and pacman's
// databases are plain files read through the root, so this also works on a
// read-only image; rpm's is a database only rpm reads.
func installed(ctx context.Context, env *Env, pkgs ...string) (map[string]bool, error) {
	got := map[string]bool{}
	switch env.Distro.PackageManager {
	case "apt":
		data, err := env.Root.ReadFile("/var/lib/dpkg/status")
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
	case "pacman":
		entries, err := env.Root.ReadDir("/var/lib/pacman/local")
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
	case "dnf":
		if !env.CanRun() {
			return nil, fmt.Errorf("cannot ask rpm which packages are installed in a read-only image")
		}
		res, err := env.Run.Run(ctx, cmd("rpm", append([]string{"-q", "--qf", "%{NAME}\\n"}, pkgs...)...))
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
	return &Action{Kind: "run", Cmd: pkgManager(env).Install(need...), Summary: summary}, nil
}
