package firstboot

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/hardbake/hardbake/bootstrap/report"
	"github.com/hardbake/hardbake/bootstrap/steps"
)

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
