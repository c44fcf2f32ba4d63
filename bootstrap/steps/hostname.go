package steps

import (
	"context"
	"os"
	"strings"
	"syscall"

	"github.com/hardbake/hardbake/bootstrap/report"
)

// The running system's host name; variables so tests never rename the
// machine they run on.
var (
	currentHostname = os.Hostname
	sethostname     = syscall.Sethostname
)

// SetRunningHostname makes a live system's running host name name, as
// /etc/hostname now says: tools that resolve it (sudo does, on every
// command) find it in /etc/hosts again. Nothing on an image or in a chroot,
// and nothing when the name is already name; the change otherwise.
func SetRunningHostname(env *Env, name string) (*report.Change, error) {
	if !env.Live() {
		return nil, nil
	}
	if cur, err := currentHostname(); err == nil && cur == name {
		return nil, nil
	}
	if err := sethostname([]byte(name)); err != nil {
		return nil, err
	}
	return &report.Change{Kind: "run", Command: "sethostname " + name, Summary: "running host name " + name}, nil
}

// cloudInitHostname keeps cloud-init's set_hostname/update_hostname modules
// (which run after firstboot) from replacing the host data's name with the
// meta-data's local-hostname.
const cloudInitHostname = "/etc/cloud/cloud.cfg.d/99-hardbake-hostname.cfg"

// hostsLine sets the 127.0.1.1 line of /etc/hosts (Debian's convention for
// the machine's own name) and keeps every other line as it is.
func hostsLine(text, name string) string {
	want := "127.0.1.1\t" + name
	if short, _, ok := strings.Cut(name, "."); ok {
		want += " " + short
	}
	lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	if text == "" {
		lines = nil
	}
	for i, l := range lines {
		if f := strings.Fields(l); len(f) > 0 && f[0] == "127.0.1.1" {
			lines[i] = want
			return strings.Join(lines, "\n") + "\n"
		}
	}
	// Right after localhost's line, as Debian's installer writes it.
	at := 0
	for i, l := range lines {
		if f := strings.Fields(l); len(f) > 0 && f[0] == "127.0.0.1" {
			at = i + 1
			break
		}
	}
	lines = append(lines[:at], append([]string{want}, lines[at:]...)...)
	return strings.Join(lines, "\n") + "\n"
}

// SetHostname writes /etc/hostname and /etc/hosts and, on the live system
// only, sets the kernel's host name with sethostname(2): hostnamectl needs
// D-Bus and systemd-hostnamed, which do not run this early in boot.
func SetHostname(ctx context.Context, env *Env, name string) ([]report.Change, error) {
	var actions []Action
	add := func(a *Action, err error) error {
		if a != nil {
			actions = append(actions, *a)
		}
		return err
	}
	if err := add(WriteFile(env.Root, "/etc/hostname", []byte(name+"\n"), 0o644, "host name "+name)); err != nil {
		return nil, err
	}
	hosts, err := env.Root.ReadFile("/etc/hosts")
	if err != nil && !os.IsNotExist(err) {
		return nil, err
	}
	if err := add(WriteFile(env.Root, "/etc/hosts", []byte(hostsLine(string(hosts), name)), 0o644, "127.0.1.1 "+name)); err != nil {
		return nil, err
	}
	if env.Root.Exists("/etc/cloud/cloud.cfg.d") {
		text := "# Written by hardbake firstboot: the host name comes from hardbake host data.\npreserve_hostname: true\n"
		if err := add(WriteFile(env.Root, cloudInitHostname, []byte(text), 0o644, "keep cloud-init from renaming the host")); err != nil {
			return nil, err
		}
	}
	changes, err := Execute(ctx, env, actions)
	if err != nil {
		return changes, err
	}
	c, err := SetRunningHostname(env, name)
	if c != nil {
		changes = append(changes, *c)
	}
	return changes, err
}
