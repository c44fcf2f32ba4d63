package steps

import (
	"context"
	"slices"
	"strconv"
	"strings"

	"github.com/hardbake/hardbake/bootstrap/sshdconfig"
)

// sshPorts returns the TCP ports sshd listens on with its configuration as
// it is now (after the ssh step): the run's `sshd -T` answer where the
// target's sshd can run (its listenaddress lines hold the port of every
// address sshd binds), otherwise the offline evaluator. The firewall opens
// exactly these and the fail2ban jail watches them; a profile's ssh.ports
// only counts once the ssh step has written it.
func sshPorts(ctx context.Context, env *Env) ([]int, error) {
	if hasSSHD(env) {
		if got, _, err := effectiveSSHD(ctx, env); err == nil {
			if ports := portsFromSSHDT(got); len(ports) > 0 {
				return ports, nil
			}
		}
	}
	eff, err := sshdconfig.Load(env.Root, SSHDConfig)
	if err != nil {
		if isNotExist(err) {
			return []int{22}, nil
		}
		return nil, err
	}
	ports := eff.Ports()
	slices.Sort(ports)
	return ports, nil
}

// portsFromSSHDT reads "listenaddress 0.0.0.0:2222" / "[::]:2222" and,
// without those, "port 2222" lines.
func portsFromSSHDT(m map[string][]string) []int {
	seen := map[int]bool{}
	var out []int
	add := func(s string) {
		if n, err := strconv.Atoi(s); err == nil && n > 0 && n < 65536 && !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	for _, a := range m["listenaddress"] {
		if i := strings.LastIndexByte(a, ':'); i >= 0 {
			add(strings.Fields(a[i+1:] + " ")[0])
		}
	}
	if len(out) == 0 {
		for _, p := range m["port"] {
			add(p)
		}
	}
	slices.Sort(out)
	return out
}

func joinInts(ports []int, sep string) string {
	s := make([]string, len(ports))
	for i, p := range ports {
		s[i] = strconv.Itoa(p)
	}
	return strings.Join(s, sep)
}
