package profile

import (
	"fmt"
	"net/netip"
	"slices"

	"github.com/hardbake/hardbake/internal/names"
)

// TimeSync configures the timesync step: exactly one time synchronisation
// daemon, enabled at boot.
type TimeSync struct {
	// Daemon: auto keeps the one the image has (the distribution's default
	// when it has none); chrony or systemd-timesyncd choose one.
	Daemon string `yaml:"daemon"`
	// Servers are NTP servers (host names or addresses) the daemon asks;
	// empty keeps what the cloud (DHCP) and the distribution configure.
	Servers []string `yaml:"servers"`
}

// TimeDaemons are the values timesync.daemon accepts.
var TimeDaemons = []string{"auto", "chrony", "systemd-timesyncd"}

func (v *validator) timesync(c *TimeSync) {
	v.oneOf("timesync.daemon", c.Daemon, TimeDaemons)
	for i, s := range c.Servers {
		path := fmt.Sprintf("timesync.servers[%d]", i)
		_, err := netip.ParseAddr(s)
		switch {
		case err != nil && !hostName(s):
			v.add(path, "%q is not a host name or IP address", s)
		case slices.Index(c.Servers, s) < i:
			v.add(path, "%q is listed twice", s)
		}
	}
}

// hostName reports whether s is a DNS name of labels separated by dots
// (metadata.google.internal, 0.debian.pool.ntp.org).
func hostName(s string) bool {
	if s == "" || len(s) > 253 {
		return false
	}
	start := 0
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == '.' {
			if !names.HostLabel(s[start:i]) {
				return false
			}
			start = i + 1
		}
	}
	return true
}
