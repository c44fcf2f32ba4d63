package firstboot

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hardbake/hardbake/bootstrap/host"
	"github.com/hardbake/hardbake/bootstrap/report"
	"github.com/hardbake/hardbake/bootstrap/runner"
	"github.com/hardbake/hardbake/bootstrap/steps"
)

const testKey = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIL/24x1N6/StptXPjMdGTu0bJCVv29PkBnNDgt6brKwj alice@laptop"

// TestLanesOrderAndFailure: whatever finishes first, progress lines and
// report steps come in the order the steps were added; a lane stops at its
// first failure while the other lane runs on; the error is that of the
// first failed step in declared order; steps run side by side.
func TestLanesOrderAndFailure(t *testing.T) {
	var mu sync.Mutex
	var printed []string
	env := &steps.Env{Log: func(format string, args ...any) {
		mu.Lock()
		printed = append(printed, fmt.Sprintf(format, args...))
		mu.Unlock()
	}}
	var ran []string
	var ranMu sync.Mutex
	// user and ssh each wait until the other has started: both finish only
	// when the lanes really run side by side (one after the other, in
	// either order, the first gives up).
	started := map[string]chan struct{}{"user": make(chan struct{}), "ssh": make(chan struct{})}
	other := map[string]string{"user": "ssh", "ssh": "user"}
	l := newLanes(env)
	add := func(lane, name string, err error) {
		l.add(lane, true, name, func(env *steps.Env) ([]report.Change, error) {
			ranMu.Lock()
			ran = append(ran, name)
			ranMu.Unlock()
			if ch, ok := started[name]; ok {
				close(ch)
				select {
				case <-started[other[name]]:
				case <-time.After(10 * time.Second):
					return nil, fmt.Errorf("%s never saw %s start: the lanes did not run side by side", name, other[name])
				}
			}
			return []report.Change{{Kind: "run", Command: "x"}}, err
		})
	}
	errUser, errSSH := errors.New("useradd failed"), errors.New("sshd -T failed")
	add("sshd", "host_keys", nil)
	add("account", "user", errUser)
	add("account", "sudo", nil) // after a failure in its lane: never runs
	add("sshd", "ssh", errSSH)
	add("sshd", "firewall", nil)
	got, err := l.run()
	if !errors.Is(err, errUser) {
		t.Errorf("error = %v, want the first failed step's in declared order (%v)", err, errUser)
	}
	var names []string
	for _, s := range got {
		names = append(names, s.Name)
	}
	if want := []string{"host_keys", "user", "ssh"}; !slices.Equal(names, want) {
		t.Errorf("report steps %v, want %v", names, want)
	}
	if got[1].Error != errUser.Error() || got[2].Error != errSSH.Error() {
		t.Errorf("step errors: %+v", got)
	}
	if slices.Contains(ran, "sudo") || slices.Contains(ran, "firewall") {
		t.Errorf("steps after a failure in their lane ran: %v", ran)
	}
	if want := []string{"host_keys:", "  run x: ", "user:", "  run x: ", "ssh:"}; !slices.Equal(printed, want) {
		t.Errorf("printed %q, want %q", printed, want)
	}
}

// sudoBesideUseradd is a runner whose useradd waits until visudo has
// started, then fails; everything else succeeds.
type sudoBesideUseradd struct {
	visudo chan struct{}
	once   sync.Once
	saw    bool // useradd saw visudo start while it ran
}

func (r *sudoBesideUseradd) Run(_ context.Context, c runner.Cmd) (runner.Result, error) {
	switch c.Name {
	case "visudo":
		r.once.Do(func() { close(r.visudo) })
	case "useradd":
		select {
		case <-r.visudo:
			r.saw = true
		case <-time.After(10 * time.Second):
		}
		res := runner.Result{ExitCode: 1, Stderr: []byte("useradd: cannot lock /etc/passwd")}
		return res, &runner.ExitError{Cmd: c, Result: res}
	}
	return runner.Result{}, nil
}

// TestSudoBesideUseradd: the sudo rule and its `visudo -c` run while
// useradd runs (they need no account), not after it. When useradd then
// fails, the run fails with useradd's error, the rule stays (it names no
// account until the next boot, which still has the host data, creates it)
// and no marker is written.
func TestSudoBesideUseradd(t *testing.T) {
	env := accountsEnv(t, map[string]string{
		"etc/passwd":  "root:x:0:0:root:/root:/bin/bash\n",
		"etc/group":   "root:x:0:\nsudo:x:27:\n",
		"etc/sudoers": "root ALL=(ALL:ALL) ALL\n@includedir /etc/sudoers.d\n",
		"etc/shells":  "/bin/sh\n/bin/bash\n",
	})
	run := &sudoBesideUseradd{visudo: make(chan struct{})}
	env.Run = run
	hostData := []byte("user:\n  name: alice\n  sudo: nopasswd\n  authorized_keys:\n    - " + testKey + "\n")
	rep, err := Run(context.Background(), Options{Env: env, SkipHostKeys: true, Sources: host.Sources{
		Seed: func() (*host.Seed, error) { return &host.Seed{Source: "test seed", HostData: hostData}, nil },
	}})
	if !run.saw {
		t.Error("useradd ran and ended before visudo started: the sudo rule waited for the account")
	}
	if err == nil || !strings.Contains(err.Error(), "useradd") {
		t.Fatalf("error = %v, want useradd's", err)
	}
	var names []string
	for _, s := range rep.Steps {
		names = append(names, s.Name)
	}
	if want := []string{"user", "sudo"}; !slices.Equal(names[:min(2, len(names))], want) {
		t.Errorf("report steps %v, want %v first", names, want)
	}
	if data, err := env.Root.ReadFile(userSudoers("alice")); err != nil || !strings.Contains(string(data), "alice ALL=(ALL:ALL) NOPASSWD: ALL") {
		t.Errorf("sudo rule: %v %q", err, data)
	}
	if env.Root.Exists(Marker) {
		t.Error("marker written after a failed run")
	}
}

// TestLanesLead: the lead lane's first step starts before any other lane's
// under one Go processor (the unit's GOMAXPROCS=1), wherever it was added;
// the report keeps the order added. Without lead the first lane added
// would start first.
func TestLanesLead(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	for _, lead := range []string{"account", ""} {
		var mu sync.Mutex
		var started []string
		l := newLanes(&steps.Env{})
		l.lead = lead
		add := func(lane, name string) {
			l.add(lane, true, name, func(env *steps.Env) ([]report.Change, error) {
				mu.Lock()
				started = append(started, name)
				mu.Unlock()
				return nil, nil
			})
		}
		add("sshd", "host_keys")
		add("account", "user")
		add("sudo", "sudo")
		add("sshd", "ssh")
		got, err := l.run()
		if err != nil {
			t.Fatal(err)
		}
		first := map[string]string{"account": "user", "": "host_keys"}[lead]
		if len(started) == 0 || started[0] != first {
			t.Errorf("lead %q: steps started in the order %v, want %s first", lead, started, first)
		}
		var names []string
		for _, s := range got {
			names = append(names, s.Name)
		}
		if want := []string{"host_keys", "user", "sudo", "ssh"}; !slices.Equal(names, want) {
			t.Errorf("lead %q: report steps %v, want %v", lead, names, want)
		}
	}
}
