package steps

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/hardbake/hardbake/bootstrap/profile"
	"github.com/hardbake/hardbake/bootstrap/report"
)

// Services shows what listens on the network and removes the profile's
// unwanted packages (a mail server nobody reads, the RPC portmapper,
// clear-text login servers) with the distribution's package manager. It
// never removes sshd, time sync, cloud-init, fail2ban, the firewall or what
// the profile keeps, and refuses when removal would take other packages along.
type Services struct{}

// Name implements Step.
func (Services) Name() string { return "services" }

// unwanted returns the installed packages the profile wants gone.
func (Services) unwanted(ctx context.Context, env *Env) ([]string, error) {
	p := env.Profile.Services
	var cand []string
	for _, pkg := range p.Remove {
		if profile.ProtectedPackages[pkg] == "" && pkg != env.Distro.SSHPackage && !slices.Contains(p.Keep, pkg) {
			cand = append(cand, pkg)
		}
	}
	if len(cand) == 0 {
		return nil, nil
	}
	have, err := installed(ctx, env, cand...)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, pkg := range cand {
		if have[pkg] {
			out = append(out, pkg)
		}
	}
	return out, nil
}

// listening describes what listens: live from /proc like `ss -tulpn`, in an
// image the installed packages known to open ports.
func (Services) listening(ctx context.Context, env *Env) []string {
	var out []string
	if env.Live() {
		for _, l := range liveListeners("/proc") {
			out = append(out, l.String())
		}
		return out
	}
	have, err := installed(ctx, env, knownListenerPackages()...)
	if err != nil {
		return nil
	}
	for _, pkg := range knownListenerPackages() {
		if have[pkg] {
			out = append(out, pkg+": "+knownListeners[pkg])
		}
	}
	return out
}

// plan returns the removal, after asking the package manager what it would
// take along.
func (s Services) plan(ctx context.Context, env *Env) ([]Action, error) {
	for _, l := range s.listening(ctx, env) {
		env.logf("  listening: %s", l)
	}
	pkgs, err := s.unwanted(ctx, env)
	if err != nil || len(pkgs) == 0 {
		return nil, err
	}
	pm := pkgManager(env)
	test := pm.RemoveTestCmd(pkgs...)
	res, err := env.Run.Run(ctx, test)
	if err != nil && res.ExitCode == 127 {
		// The package manager cannot run in this root (a plan of an
		// offline image without it): say what was not checked. Apply runs
		// the same tool and fails there, so nothing is removed unchecked.
		return []Action{{Kind: "run", Cmd: pm.RemoveCmd(pkgs...), Summary: "remove unwanted packages: " + strings.Join(pkgs, ", ") +
			" (not checked what else would go: " + test.Name + " cannot run in this root)"}}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("simulating the removal of %s failed: %w", strings.Join(pkgs, " "), err)
	}
	var extra []string
	for _, gone := range pm.Removed(string(res.Stdout), pkgs) {
		if !slices.Contains(pkgs, gone) {
			extra = append(extra, gone)
		}
	}
	if len(extra) > 0 {
		return nil, fmt.Errorf("removing %s would also remove %s; add them to services.remove, or keep the first ones with services.keep",
			strings.Join(pkgs, " "), strings.Join(extra, " "))
	}
	return []Action{{Kind: "run", Cmd: pm.RemoveCmd(pkgs...), Summary: "remove unwanted packages: " + strings.Join(pkgs, ", ")}}, nil
}

// Plan implements Step.
func (s Services) Plan(ctx context.Context, env *Env) ([]Action, error) { return s.plan(ctx, env) }

// Apply implements Step.
func (s Services) Apply(ctx context.Context, env *Env) ([]report.Change, error) {
	var changes []report.Change
	err := withPackages(ctx, env, func() error {
		actions, err := s.plan(ctx, env)
		if err != nil || len(actions) == 0 {
			return err
		}
		changes, err = Execute(ctx, env, actions)
		return err
	})
	return changes, err
}

// Check implements Step.
func (s Services) Check(ctx context.Context, env *Env) ([]report.Check, error) {
	pkgs, err := s.unwanted(ctx, env)
	if err != nil {
		return nil, err
	}
	got := "none"
	if len(pkgs) > 0 {
		got = strings.Join(pkgs, " ")
	}
	listening := s.listening(ctx, env)
	return []report.Check{
		check("services.unwanted_installed", "none", got),
		{ID: "services.listening", OK: true, Want: "reviewed", Got: fmt.Sprintf("%d listener(s)", len(listening)), Detail: strings.Join(listening, "; ")},
	}, nil
}
