package steps

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"

	"github.com/hardbake/hardbake/bootstrap"
	"github.com/hardbake/hardbake/bootstrap/report"
	"github.com/hardbake/hardbake/bootstrap/root"
	"github.com/hardbake/hardbake/bootstrap/runner"
)

// Action is one planned change. Plans are data, so `plan` can print them,
// tests can compare them, and one executor applies them with rollback.
type Action struct {
	Kind    string // "write", "remove", "chmod" (to Mode), "run", "validate"
	Path    string
	Data    []byte
	Old     []byte // current content for the diff (nil: file absent)
	Mode    fs.FileMode
	Owner   root.Owner
	Cmd     runner.Cmd
	Summary string
	// ExactMode: a "write" gives an existing file Mode too (normally it
	// keeps its own), in the same atomic rename as the new content.
	ExactMode bool
	// Validate runs for Kind "validate": a target tool judging the files
	// written so far. Its failure restores them.
	Validate func(ctx context.Context) error
}

// WriteFile plans replacing path with data when it differs; nil when equal.
func WriteFile(r *root.Root, path string, data []byte, mode fs.FileMode, summary string) (*Action, error) {
	old, err := r.ReadFile(path)
	exists := err == nil
	if err != nil && !isNotExist(err) {
		return nil, err
	}
	if exists && bytes.Equal(old, data) {
		return nil, nil
	}
	a := &Action{Kind: "write", Path: path, Data: data, Mode: mode, Owner: root.RootOwner, Summary: summary}
	if exists {
		a.Old = old
	}
	return a, nil
}

// RemoveFile plans removing path when it exists; nil otherwise.
func RemoveFile(r *root.Root, path, summary string) (*Action, error) {
	old, err := r.ReadFile(path)
	if err != nil {
		if isNotExist(err) {
			return nil, nil
		}
		return nil, err
	}
	return &Action{Kind: "remove", Path: path, Old: old, Summary: summary}, nil
}

// Change renders the action for reports.
func (a Action) Change() report.Change {
	c := report.Change{Kind: a.Kind, Path: a.Path, Summary: a.Summary}
	switch a.Kind {
	case "write":
		c.Diff = UnifiedDiff(a.Path, a.Old, a.Data)
	case "remove":
		c.Diff = UnifiedDiff(a.Path, a.Old, nil)
	case "run":
		c.Command = a.Cmd.String()
	case "validate":
		c.Command = a.Cmd.String()
	}
	return c
}

// Changes renders a plan.
func Changes(actions []Action) []report.Change {
	out := make([]report.Change, 0, len(actions))
	for _, a := range actions {
		out = append(out, a.Change())
	}
	return out
}

// Execute applies actions in order. Files are snapshotted before they are
// touched; when a validation or a command fails, every file written so far is
// restored and the error wraps bootstrap.ErrValidation for validations.
// Commands that already ran are not undone (package installs are not undone
// by a later failure; they are idempotent on the next run).
func Execute(ctx context.Context, env *Env, actions []Action) ([]report.Change, error) {
	snap := env.Root.Snapshot()
	var done []report.Change
	fail := func(err error) ([]report.Change, error) {
		env.sshdModel().forgetEffective()
		if rerr := snap.Restore(); rerr != nil {
			return nil, fmt.Errorf("%w; restoring the previous files also failed: %v", err, rerr)
		}
		return nil, err
	}
	for _, a := range actions {
		switch a.Kind {
		case "write":
			if err := snap.Save(a.Path); err != nil {
				return fail(err)
			}
			if err := env.Root.MkdirAll(parentDir(a.Path), 0o755, root.RootOwner); err != nil {
				return fail(err)
			}
			write := env.Root.WriteFile
			if a.ExactMode {
				write = env.Root.WriteFileMode
			}
			if err := write(a.Path, a.Data, a.Mode, a.Owner); err != nil {
				return fail(err)
			}
			env.sshdModel().wrote(a.Path)
			env.logf("  wrote %s", a.Path)
		case "remove":
			if err := snap.Save(a.Path); err != nil {
				return fail(err)
			}
			if err := env.Root.Remove(a.Path); err != nil {
				return fail(err)
			}
			env.sshdModel().wrote(a.Path)
			env.logf("  removed %s", a.Path)
		case "chmod":
			if err := snap.Save(a.Path); err != nil {
				return fail(err)
			}
			if err := env.Root.Chmod(a.Path, a.Mode); err != nil {
				return fail(err)
			}
			env.logf("  chmod %04o %s", a.Mode, a.Path)
		case "run":
			env.logf("  running %s", a.Cmd)
			if _, err := env.Run.Run(ctx, a.Cmd); err != nil {
				return fail(err)
			}
		case "validate":
			env.logf("  validating with %s", a.Cmd)
			if err := a.Validate(ctx); err != nil {
				return fail(fmt.Errorf("%w: %s: %v (previous files restored)", bootstrap.ErrValidation, a.Summary, err))
			}
		default:
			return fail(fmt.Errorf("unknown action kind %q", a.Kind))
		}
		done = append(done, a.Change())
	}
	return done, nil
}

func parentDir(p string) string {
	for i := len(p) - 1; i > 0; i-- {
		if p[i] == '/' {
			return p[:i]
		}
	}
	return "/"
}
