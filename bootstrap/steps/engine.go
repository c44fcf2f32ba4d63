package steps

import (
	"context"
	"errors"

	"github.com/hardbake/hardbake/bootstrap"
	"github.com/hardbake/hardbake/bootstrap/report"
)

// Mode is what a run does with each step.
type Mode string

// Run modes.
const (
	ModeBake  Mode = "bake"  // Apply, then Check
	ModePlan  Mode = "plan"  // Plan only: nothing changes
	ModeAudit Mode = "audit" // Check only
)

// Preflighter is a step that checks its input against the target before any
// step runs (e.g. the firewall backend the profile names is installed).
type Preflighter interface {
	Preflight(ctx context.Context, env *Env) error
}

// Run runs the steps in order and returns the report. The returned error
// decides the exit code: bad input (bootstrap.ErrInvalid) stops before any
// later step; a failed step or check gives bootstrap.ErrCheckFailed.
func Run(ctx context.Context, env *Env, mode Mode, selected []Step) (*report.Report, error) {
	rep := &report.Report{Command: string(mode), Root: env.Root.String(), Distro: env.Distro}
	env.StartRun()
	var firstErr error
	if mode != ModeAudit {
		// Bad input found by a late step must stop the run before an
		// earlier step changes anything.
		for _, s := range selected {
			if p, ok := s.(Preflighter); ok {
				if err := p.Preflight(ctx, env); err != nil {
					rep.Steps = append(rep.Steps, report.Step{Name: s.Name(), Error: err.Error()})
					rep.Finish()
					rep.Error, rep.OK = stepError(s, err).Error(), false
					return rep, stepError(s, err)
				}
			}
		}
	}
	for _, s := range selected {
		env.logf("%s: %s", s.Name(), map[Mode]string{ModeBake: "applying", ModePlan: "planning", ModeAudit: "checking"}[mode])
		sr := report.Step{Name: s.Name()}
		var err error
		switch mode {
		case ModePlan:
			var actions []Action
			actions, err = s.Plan(ctx, env)
			sr.Changes = Changes(actions)
		case ModeBake:
			sr.Changes, err = s.Apply(ctx, env)
			if err == nil {
				sr.Checks, err = s.Check(ctx, env)
			}
		case ModeAudit:
			sr.Checks, err = s.Check(ctx, env)
		}
		if d, ok := s.(Deviator); ok && mode != ModePlan {
			sr.Deviations = d.Deviations(env)
		}
		if err != nil {
			sr.Error = err.Error()
			if firstErr == nil {
				firstErr = stepError(s, err)
			}
		}
		for _, c := range sr.Checks {
			status := "ok"
			if !c.OK {
				status = "FAIL"
				if !c.Failed() {
					status = "warn"
				}
			}
			env.logf("  %-4s %s: want %s, got %s", status, c.ID, c.Want, c.Got)
		}
		rep.Steps = append(rep.Steps, sr)
		if errors.Is(err, bootstrap.ErrInvalid) {
			break // bad input: stop before touching anything more
		}
	}
	rep.Finish()
	if firstErr != nil {
		rep.Error = firstErr.Error()
		rep.OK = false
		return rep, firstErr
	}
	if !rep.OK {
		return rep, bootstrap.ErrCheckFailed
	}
	return rep, nil
}
