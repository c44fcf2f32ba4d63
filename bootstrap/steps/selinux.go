package steps

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/hardbake/hardbake/bootstrap/root"
	"github.com/hardbake/hardbake/bootstrap/runner"
)

// SELinux (Fedora, the RHEL family) confines sshd by labels: sshd may bind
// only ports labelled ssh_port_t (another port fails with "Bind to port ...
// failed: Permission denied" and sshd does not start), and reads
// ~/.ssh/authorized_keys only with the ssh_home_t context that restorecon
// gives it (a file created by a tool outside the policy keeps the wrong one).

// SELinuxConfig is where the policy mode is configured.
const SELinuxConfig = "/etc/selinux/config"

// SELinuxPresent reports whether SELinux applies to the root: its tools are
// installed (restorecon) and /etc/selinux/config does not say disabled.
func SELinuxPresent(r *root.Root) bool {
	if !r.Exists("/usr/sbin/restorecon") {
		return false
	}
	data, err := r.ReadFile(SELinuxConfig)
	if err != nil {
		return false
	}
	mode := selinuxSetting(string(data), "SELINUX")
	return mode == "enforcing" || mode == "permissive"
}

// selinuxSetting is the value of key (SELINUX, SELINUXTYPE) in the text of
// /etc/selinux/config, lower-cased; the last assignment wins.
func selinuxSetting(text, key string) string {
	val := ""
	for _, l := range strings.Split(text, "\n") {
		k, v, ok := strings.Cut(strings.TrimSpace(l), "=")
		if ok && strings.TrimSpace(k) == key {
			val = strings.ToLower(strings.Trim(strings.TrimSpace(v), `"'`))
		}
	}
	return val
}

// semanagePackage provides semanage on Fedora and the RHEL family.
const semanagePackage = "policycoreutils-python-utils"

// portLabels parses `semanage port -l -n` ("ssh_port_t  tcp  22, 2222") into
// tcp port -> type. Ranges ("32768-60999") are expanded only for the ports asked.
func portLabels(out string, want []int) map[int]string {
	labels := map[int]string{}
	for _, l := range strings.Split(out, "\n") {
		f := strings.Fields(l)
		if len(f) < 3 || f[1] != "tcp" {
			continue
		}
		for _, spec := range strings.Split(strings.Join(f[2:], ""), ",") {
			lo, hi, isRange := strings.Cut(spec, "-")
			a, err1 := strconv.Atoi(lo)
			b := a
			var err2 error
			if isRange {
				b, err2 = strconv.Atoi(hi)
			}
			if err1 != nil || err2 != nil {
				continue
			}
			for _, p := range want {
				// The first (most specific, local) definition wins.
				if _, seen := labels[p]; !seen && p >= a && p <= b {
					labels[p] = f[0]
				}
			}
		}
	}
	return labels
}

// selinuxPortActions plans labelling every non-22 SSH port ssh_port_t:
// `semanage port -a` for a port without a label, `-m` for one that has
// another type, nothing for one labelled already (a second bake changes
// nothing). Without semanage in the root it plans installing it first.
func selinuxPortActions(ctx context.Context, env *Env, ports []int) ([]Action, error) {
	var custom []int
	for _, p := range ports {
		if p != 22 {
			custom = append(custom, p)
		}
	}
	if len(custom) == 0 || !SELinuxPresent(env.Root) {
		return nil, nil
	}
	slices.Sort(custom)
	var actions []Action
	labels := map[int]string{}
	if _, ok := runner.Lookup(env.Root.HostPath("/"), "semanage"); !ok {
		a, err := installAction(ctx, env, "install semanage to label the SSH port for SELinux", semanagePackage)
		if err != nil {
			return nil, err
		}
		actions = appendAction(actions, a)
	} else if env.CanRun() {
		res, err := env.Run.Run(ctx, cmd("semanage", "port", "-l", "-n"))
		if err != nil {
			return nil, fmt.Errorf("asking SELinux for port labels: %w", err)
		}
		labels = portLabels(string(res.Stdout), custom)
	}
	for _, p := range custom {
		op := "-a"
		switch labels[p] {
		case "ssh_port_t":
			continue
		case "":
		default:
			op = "-m"
		}
		actions = append(actions, Action{Kind: "run",
			Summary: fmt.Sprintf("let sshd bind port %d under SELinux (ssh_port_t)", p),
			Cmd:     cmd("semanage", "port", op, "-t", "ssh_port_t", "-p", "tcp", strconv.Itoa(p))})
	}
	return actions, nil
}
