package steps

import (
	"context"
	"fmt"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/hardbake/hardbake/bootstrap/distro"
	"github.com/hardbake/hardbake/bootstrap/report"
	"github.com/hardbake/hardbake/bootstrap/root"
	"github.com/hardbake/hardbake/bootstrap/runner"
)

// policyRCD makes invoke-rc.d refuse every start while hardbake installs into
// a chroot: without it a package's init script (fail2ban, exim4) would start
// its daemon on the build host, because no systemd runs inside the chroot.
const (
	policyRCD        = "/usr/sbin/policy-rc.d"
	policyRCDContent = "#!/bin/sh\n# Written by hardbake for the duration of a package install into an image.\nexit 101\n"
)

// ownPolicyRCD reports whether policy-rc.d is hardbake's to write and
// remove: absent, or left by a run that was killed before it removed it (its
// exact content). An admin's own policy-rc.d is left alone. Without the
// second case an image whose bake was interrupted would ship "exit 101",
// and no service would start on the machines made from it.
func ownPolicyRCD(env *Env) bool {
	data, err := env.Root.ReadFile(policyRCD)
	return isNotExist(err) || (err == nil && string(data) == policyRCDContent)
}

// withPackages runs fn in a state where the package manager can work and
// nothing else interferes, and undoes that state afterwards:
//   - under --root: /proc, /sys, /dev and DNS lent to the chroot, and (where
//     package scripts ask policy-rc.d) a policy-rc.d so no service starts;
//   - live: the package manager's background timers (apt-daily,
//     dnf-makecache) paused (not disabled: the image keeps them enabled);
//   - a wait for the locks of a package manager already running.
func withPackages(ctx context.Context, env *Env, fn func() error) error {
	if env.Live() {
		restart := pauseTimers(ctx, env)
		defer restart()
	} else if env.Distro.Packages().ServicePolicy && ownPolicyRCD(env) {
		if err := env.Root.WriteFile(policyRCD, []byte(policyRCDContent), 0o755, root.RootOwner); err != nil {
			return err
		}
		defer env.Root.Remove(policyRCD)
	}
	if err := waitForLocks(ctx, env, time.Duration(env.Profile.Updates.LockTimeout)*time.Second); err != nil {
		return err
	}
	if m, ok := env.Run.(runner.Mounter); ok {
		return m.WithSystem(ctx, fn)
	}
	return fn()
}

// pauseTimers stops the active background timers and returns a function
// that starts them again.
func pauseTimers(ctx context.Context, env *Env) func() {
	timers := env.Distro.Packages().Timers
	if env.Distro.ServiceManager != distro.Systemd || len(timers) == 0 {
		return func() {}
	}
	res, _ := env.Run.Run(ctx, cmd("systemctl", append([]string{"is-active"}, timers...)...))
	states := strings.Fields(string(res.Stdout))
	var active []string
	for i, t := range timers {
		if i < len(states) && states[i] == "active" {
			active = append(active, t)
		}
	}
	if len(active) == 0 {
		return func() {}
	}
	env.logf("  pausing %s during the bake", strings.Join(active, ", "))
	env.Run.Run(ctx, cmd("systemctl", append([]string{"stop"}, active...)...))
	return func() {
		// A cancelled bake still restarts them.
		env.Run.Run(context.WithoutCancel(ctx), cmd("systemctl", append([]string{"start"}, active...)...))
	}
}

// waitForLocks waits until no process holds the package manager's locks
// (an apt-daily run or cloud-init's package_update at boot), up to timeout.
func waitForLocks(ctx context.Context, env *Env, timeout time.Duration) error {
	locks := env.Distro.Packages().Locks
	if !env.Root.Writable() || len(locks) == 0 {
		return nil
	}
	deadline := time.Now().Add(timeout)
	told := false
	for {
		holder := ""
		for _, l := range locks {
			if pid := lockHolder(env.Root.HostPath(l)); pid != 0 {
				holder = fmt.Sprintf("%s (held by pid %d)", l, pid)
				break
			}
		}
		if holder == "" {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("another package manager still holds %s after %s (updates.lock_timeout)", holder, timeout)
		}
		if !told {
			env.logf("  waiting for %s", holder)
			told = true
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Second):
		}
	}
}

// lockHolder returns the pid holding a write lock on file, or 0.
func lockHolder(file string) int {
	f, err := os.OpenFile(file, os.O_RDWR, 0)
	if err != nil {
		return 0
	}
	defer f.Close()
	lk := syscall.Flock_t{Type: syscall.F_WRLCK, Whence: 0}
	if err := syscall.FcntlFlock(f.Fd(), syscall.F_GETLK, &lk); err != nil || lk.Type == syscall.F_UNLCK {
		return 0
	}
	return int(lk.Pid)
}

// refreshOnce refreshes the package lists the first time a step of this run
// needs them (images are often built with the lists removed).
func refreshOnce(ctx context.Context, env *Env) error {
	if env.refreshed {
		return nil
	}
	refresh := pkgManager(env).RefreshCmd()
	env.logf("  running %s", refresh)
	if _, err := env.Run.Run(ctx, refresh); err != nil {
		return err
	}
	env.refreshed = true
	return nil
}

// planWithPackages is what applyWithPackages would do: install each phase's
// missing packages, then the step's own actions (planned against the files
// as they are now: a package not yet installed brings its defaults later).
func planWithPackages(ctx context.Context, env *Env, summary string, phases [][]string, configure func() ([]Action, error)) ([]Action, error) {
	var actions []Action
	for _, pkgs := range phases {
		if len(pkgs) == 0 {
			continue
		}
		a, err := installAction(ctx, env, summary, pkgs...)
		if err != nil {
			return nil, err
		}
		actions = appendAction(actions, a)
	}
	more, err := configure()
	return append(actions, more...), err
}

// applyWithPackages installs the missing pkgs, then plans the step's files
// with the packages in place (their default configs exist only now) and
// applies them, all inside withPackages.
// phases are installed one after the other (EPEL before fail2ban on RHEL).
func applyWithPackages(ctx context.Context, env *Env, summary string, phases [][]string, configure func() ([]Action, error)) ([]report.Change, error) {
	var changes []report.Change
	err := withPackages(ctx, env, func() error {
		for _, pkgs := range phases {
			if len(pkgs) == 0 {
				continue
			}
			a, err := installAction(ctx, env, summary, pkgs...)
			if err != nil {
				return err
			}
			if a != nil {
				if err := refreshOnce(ctx, env); err != nil {
					return err
				}
				done, err := Execute(ctx, env, []Action{*a})
				if err != nil {
					return err
				}
				changes = append(changes, done...)
			}
		}
		actions, err := configure()
		if err != nil {
			return err
		}
		done, err := Execute(ctx, env, actions)
		changes = append(changes, done...)
		return err
	})
	return changes, err
}

// appendAction appends a when it is not nil.
func appendAction(list []Action, a *Action) []Action {
	if a != nil {
		list = append(list, *a)
	}
	return list
}
