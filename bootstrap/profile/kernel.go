package profile

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// Kernel configures the kernel step: the CIS sysctl settings, core dumps and
// the kernel modules nobody should load on a server.
type Kernel struct {
	// IPForward lets the host route packets (container and Kubernetes
	// hosts need it): the forwarding settings are then not written.
	IPForward bool `yaml:"ip_forward"`
	// IPv6RouterAdvertisements keeps accept_ra as the kernel has it, so a
	// host that gets its IPv6 address and route by SLAAC (most clouds) keeps
	// them.
	IPv6RouterAdvertisements bool `yaml:"ipv6_router_advertisements"`
	// CoreDumps allowed; false turns them off for everyone.
	CoreDumps bool `yaml:"core_dumps"`
	// DisableModules are kernel modules modprobe must never load.
	DisableModules []string `yaml:"disable_modules"`
}

// moduleName is what modprobe accepts as a module name (it treats - and _
// alike).
var moduleName = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,63}$`)

// SameModule reports whether modprobe takes a and b for one module: it
// treats - and _ in names alike.
func SameModule(a, b string) bool {
	return strings.ReplaceAll(a, "-", "_") == strings.ReplaceAll(b, "-", "_")
}

func (v *validator) kernel(c *Kernel) {
	for i, m := range c.DisableModules {
		path := fmt.Sprintf("kernel.disable_modules[%d]", i)
		switch {
		case !moduleName.MatchString(m):
			v.add(path, "%q is not a kernel module name (lower-case letters, digits, - and _)", m)
		case slices.IndexFunc(c.DisableModules[:i], func(o string) bool { return SameModule(o, m) }) >= 0:
			v.add(path, "%q is listed twice", m)
		}
	}
}
