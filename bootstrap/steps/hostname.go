package steps

import (
	"os"
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
