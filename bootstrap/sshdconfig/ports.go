package sshdconfig

import (
	"strconv"
	"strings"
)

// defaultPort is SSH_DEFAULT_PORT, used when no Port directive is given.
const defaultPort = 22

// Ports returns the TCP ports sshd listens on, in first-seen order without
// duplicates. This is what a firewall must open, and it is what sshd does
// rather than a plain list of Port lines (checked with sshd -T's listenaddress
// output):
//   - the Port values, or 22 when there are none;
//   - but once ListenAddress is used, only ListenAddress decides: "host:port"
//     listens on that port alone, a bare "host" on every Port value. So
//     "Port 2222" + "ListenAddress 10.0.0.1:2200" listens on 2200 only.
//
// Unparsable ports (which sshd refuses at start-up) are left out.
func (e *Effective) Ports() []int {
	var ports []int
	for _, v := range e.Values["port"] {
		if p := parsePort(v.Args[0]); p > 0 {
			ports = append(ports, p)
		}
	}
	if len(ports) == 0 {
		ports = []int{defaultPort}
	}
	addrs := e.Values["listenaddress"]
	if len(addrs) == 0 {
		return uniqueInts(ports)
	}
	var out []int
	for _, v := range addrs {
		if p := listenAddressPort(v.Args[0]); p > 0 {
			out = append(out, p)
		} else {
			out = append(out, ports...)
		}
	}
	return uniqueInts(out)
}

// listenAddressPort returns the explicit port of a ListenAddress argument, 0
// if there is none. Like servconf.c: a bare IPv6 address (two or more ':' and
// no '[') has no port; otherwise hpdelim splits "[v6]:port", "host:port" and
// "host/port".
func listenAddressPort(addr string) int {
	if !strings.Contains(addr, "[") && strings.Count(addr, ":") >= 2 {
		return 0
	}
	rest := addr
	if strings.HasPrefix(rest, "[") {
		end := strings.IndexByte(rest, ']')
		if end < 0 {
			return 0
		}
		rest = rest[end+1:]
		if rest == "" || (rest[0] != ':' && rest[0] != '/') {
			return 0
		}
		return parsePort(rest[1:])
	}
	i := strings.IndexAny(rest, ":/")
	if i < 0 {
		return 0
	}
	return parsePort(rest[i+1:])
}

// parsePort accepts 1..65535. sshd's a2port also resolves service names from
// /etc/services; "ssh" is the only one seen in practice.
func parsePort(s string) int {
	if s == "ssh" {
		return defaultPort
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > 65535 {
		return 0
	}
	return n
}

func uniqueInts(in []int) []int {
	seen := map[int]bool{}
	out := make([]int, 0, len(in))
	for _, n := range in {
		if !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	return out
}
