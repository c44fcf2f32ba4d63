package steps

import (
	"fmt"
	"strings"

	"github.com/hardbake/hardbake/bootstrap"
)

// Registry is every step in the order bake runs them. The order matters:
// ssh before the firewall (which opens the effective SSH ports), firstboot
// (the unit that applies per-host data) before seal, seal last.
var Registry = []Step{
	SSH{},
	Updates{},
	Services{},
	Kernel{},
	Accounts{},
	Logging{},
	Mounts{},
	Files{},
	TimeSync{},
	MAC{},
	Fail2ban{},
	Firewall{},
	Firstboot{},
	Audit{},
	Monitoring{},
	Seal{},
}

// OptIn is a step that runs only when asked by name (seal: --only seal,
// bake --seal, hardbake seal); a plain bake or audit leaves it out.
type OptIn interface{ OptIn() bool }

func optIn(s Step) bool {
	o, ok := s.(OptIn)
	return ok && o.OptIn()
}

// Names lists the registered step names in order.
func Names() []string {
	var out []string
	for _, s := range Registry {
		out = append(out, s.Name())
	}
	return out
}

// Select applies --only and --skip (comma-separated step names) to the registry.
func Select(only, skip []string) ([]Step, error) {
	known := map[string]bool{}
	for _, n := range Names() {
		known[n] = true
	}
	var bad []string
	for _, n := range append(append([]string{}, only...), skip...) {
		if !known[n] {
			bad = append(bad, fmt.Sprintf("%q", n))
		}
	}
	if len(bad) > 0 {
		return nil, fmt.Errorf("%w: unknown step %s; steps are: %s", bootstrap.ErrInvalid, strings.Join(bad, ", "), strings.Join(Names(), ", "))
	}
	in := func(list []string, n string) bool {
		for _, x := range list {
			if x == n {
				return true
			}
		}
		return false
	}
	var out []Step
	for _, s := range Registry {
		wanted := in(only, s.Name()) || (len(only) == 0 && !optIn(s))
		if wanted && !in(skip, s.Name()) {
			out = append(out, s)
		}
	}
	return out, nil
}
