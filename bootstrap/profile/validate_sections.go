package profile

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/hardbake/hardbake/internal/names"
)

func (v *validator) skip(names []string) {
	for i, n := range names {
		if !slices.Contains(StepNames, n) {
			v.add(fmt.Sprintf("skip[%d]", i), "unknown step %q; steps are: %s", n, strings.Join(StepNames, ", "))
		}
	}
}

// ports checks a list of ports: in range, no duplicates.
func (v *validator) ports(field string, ports []int) {
	seen := map[int]bool{}
	for i, port := range ports {
		path := fmt.Sprintf("%s[%d]", field, i)
		v.intRange(path, port, 1, 65535)
		if seen[port] {
			v.add(path, "port %d is listed twice", port)
		}
		seen[port] = true
	}
}

func (v *validator) updates(u *Updates) {
	if !names.ClockTime(u.RebootTime) {
		v.add("updates.reboot_time", "%q is not a time of day HH:MM (00:00-23:59)", u.RebootTime)
	}
	v.intRange("updates.lock_timeout", u.LockTimeout, 0, 3600)
}

func (v *validator) services(s *Services) {
	for i, name := range s.Remove {
		path := fmt.Sprintf("services.remove[%d]", i)
		switch {
		case !names.Package(name):
			v.add(path, "%q is not a package name", name)
		case ProtectedPackages[name] != "":
			v.add(path, "%q is never removed: %s", name, ProtectedPackages[name])
		case slices.Contains(s.Keep, name):
			v.add(path, "%q is also in services.keep", name)
		case slices.Index(s.Remove, name) < i:
			v.add(path, "%q is listed twice", name)
		}
	}
	for i, name := range s.Keep {
		if !names.Package(name) {
			v.add(fmt.Sprintf("services.keep[%d]", i), "%q is not a package name", name)
		}
	}
}

func (v *validator) fail2ban(f *Fail2ban) {
	v.intRange("fail2ban.max_retry", f.MaxRetry, 1, 100)
	v.intRange("fail2ban.find_time", f.FindTime, 60, 7*86400)
	v.intRange("fail2ban.ban_time", f.BanTime, 60, 365*86400)
	for i, ip := range f.IgnoreIP {
		if _, err := netip.ParsePrefix(ip); err == nil {
			continue
		}
		if _, err := netip.ParseAddr(ip); err != nil {
			v.add(fmt.Sprintf("fail2ban.ignore_ip[%d]", i), "%q is not an IP address or CIDR prefix", ip)
		}
	}
}

func (v *validator) firewall(f *Firewall) {
	v.oneOf("firewall.backend", f.Backend, FirewallBackends)
	v.ports("firewall.allow_tcp", f.AllowTCP)
	v.ports("firewall.allow_udp", f.AllowUDP)
}

func (v *validator) seal(s *Seal) {
	switch {
	case s.RemoveUser == "":
	case s.RemoveUser == "root":
		v.add("seal.remove_user", `"root" cannot be removed`)
	case !names.Shadow(s.RemoveUser) || len(s.RemoveUser) > 32:
		v.add("seal.remove_user", "%q is not a user name", s.RemoveUser)
	}
}
