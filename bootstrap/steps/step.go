// Package steps holds the hardening steps. Each step is one file with Plan
// (what would change), Apply (change it) and Check (verify it); the engine in
// engine.go runs them in registry order for bake, plan and audit.
package steps

import (
	"context"
	"fmt"

	"github.com/hardbake/hardbake/bootstrap/distro"
	"github.com/hardbake/hardbake/bootstrap/profile"
	"github.com/hardbake/hardbake/bootstrap/report"
	"github.com/hardbake/hardbake/bootstrap/root"
	"github.com/hardbake/hardbake/bootstrap/runner"
)

// Env is everything a step may touch: the root, the command runner, what the
// distribution is, and the profile. Nothing else.
type Env struct {
	Root    *root.Root
	Run     runner.Runner
	Distro  distro.Info
	Profile *profile.Profile
	// Force skips the lockout guard.
	Force bool
	// Log prints human progress lines (nil: quiet).
	Log func(format string, args ...any)
	// Keep lists paths seal must not delete: the running hardbake binary's
	// directory and the report's, which a Packer session still needs.
	Keep []string

	// refreshed: the package lists were refreshed in this run.
	refreshed bool
	// sshd is what the target's sshd answered in this run (StartRun).
	sshd *SSHDModel
}

func (e *Env) logf(format string, args ...any) {
	if e.Log != nil {
		e.Log(format, args...)
	}
}

// Live reports whether the root is the running system, where services may be
// reloaded. Under --root nothing is ever started or restarted.
func (e *Env) Live() bool { return e.Root.IsLive() }

// CanRun reports whether commands can run in the root (not a read-only image).
func (e *Env) CanRun() bool { return e.Root.Writable() && e.Run != nil }

// Step is one item of the hardening checklist.
type Step interface {
	Name() string
	// Plan returns the actions Apply would take now; it changes nothing.
	Plan(ctx context.Context, env *Env) ([]Action, error)
	// Apply makes the system meet the profile and returns what it did.
	Apply(ctx context.Context, env *Env) ([]report.Change, error)
	// Check verifies the system against the profile without changing it.
	Check(ctx context.Context, env *Env) ([]report.Check, error)
}

// Deviator is a step that knows which benchmark items it leaves alone on
// purpose; bake and audit list them in the report.
type Deviator interface {
	Deviations(env *Env) []report.Deviation
}

// check builds a report.Check comparing want and got.
func check(id, want, got string) report.Check {
	return report.Check{ID: id, OK: want == got, Want: want, Got: got}
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// stepError names the step in an error.
func stepError(s Step, err error) error { return fmt.Errorf("%s: %w", s.Name(), err) }
