package firstboot

import (
	"fmt"
	"slices"
	"sync"

	"github.com/hardbake/hardbake/bootstrap/report"
	"github.com/hardbake/hardbake/bootstrap/steps"
)

// lanes runs firstboot's steps: each step belongs to a lane, the steps of a
// lane run in order and a lane stops at its first failure, and the lanes
// run side by side. Steps in different lanes touch different files and do
// not wait for each other, so the image's own tools (useradd, visudo,
// sshd) run at the same time. Whatever the timing, the progress lines and
// the report read in the order the steps were added: a step's lines are
// printed once it and every step added before it have finished.
type lanes struct {
	env   *steps.Env
	tasks []*task
	// lead is the lane that runs on the calling goroutine, started before
	// the others get a chance to run; "" is the first lane added. Under the
	// unit's one Go processor (steps.FirstbootEnv) the other lanes run only
	// while it waits, so the lead lane's first tool is forked before any
	// other lane's Go work.
	lead string

	mu      sync.Mutex
	printed int // tasks[:printed] are printed
}

type task struct {
	lane  string
	run   func(*steps.Env) (*report.Step, error)
	lines []string
	step  *report.Step
	err   error
	done  bool
}

func newLanes(env *steps.Env) *lanes { return &lanes{env: env} }

// add appends a step to lane when is true.
func (l *lanes) add(lane string, when bool, name string, fn func(*steps.Env) ([]report.Change, error)) {
	if !when {
		return
	}
	l.addStep(lane, func(env *steps.Env) (*report.Step, error) {
		return runStep(env, name, func() ([]report.Change, error) { return fn(env) })
	})
}

// addStep appends a task that makes its own report step; a nil step is a
// step that did not apply (it is left out of the report).
func (l *lanes) addStep(lane string, fn func(*steps.Env) (*report.Step, error)) {
	l.tasks = append(l.tasks, &task{lane: lane, run: fn})
}

// run runs every lane and returns the report steps in the order added and
// the error of the first failed step in that order.
func (l *lanes) run() ([]report.Step, error) {
	byLane := map[string][]*task{}
	var order []string
	for _, t := range l.tasks {
		if _, ok := byLane[t.lane]; !ok {
			order = append(order, t.lane)
		}
		byLane[t.lane] = append(byLane[t.lane], t)
	}
	runLane := func(tasks []*task) {
		for _, t := range tasks {
			e := *l.env
			if l.env.Log != nil {
				e.Log = func(format string, args ...any) { t.lines = append(t.lines, fmt.Sprintf(format, args...)) }
			}
			t.step, t.err = t.run(&e)
			l.finish(t)
			if t.err != nil {
				return
			}
		}
	}
	if i := slices.Index(order, l.lead); i > 0 {
		order = slices.Insert(slices.Delete(order, i, i+1), 0, l.lead)
	}
	// The lead lane runs on this goroutine, the others on new ones.
	var wg sync.WaitGroup
	for _, name := range order[min(1, len(order)):] {
		wg.Add(1)
		go func() {
			defer wg.Done()
			runLane(byLane[name])
		}()
	}
	if len(order) > 0 {
		runLane(byLane[order[0]])
	}
	wg.Wait()
	// Steps after a failure in their lane never ran: print what is left.
	l.mu.Lock()
	for ; l.printed < len(l.tasks); l.printed++ {
		l.print(l.tasks[l.printed])
	}
	l.mu.Unlock()
	var out []report.Step
	var first error
	for _, t := range l.tasks {
		if t.step != nil {
			out = append(out, *t.step)
		}
		if t.err != nil && first == nil {
			first = t.err
		}
	}
	return out, first
}

// finish marks t done and prints every finished task whose predecessors
// are all printed.
func (l *lanes) finish(t *task) {
	l.mu.Lock()
	defer l.mu.Unlock()
	t.done = true
	for l.printed < len(l.tasks) && l.tasks[l.printed].done {
		l.print(l.tasks[l.printed])
		l.printed++
	}
}

func (l *lanes) print(t *task) {
	for _, line := range t.lines {
		logf(l.env, "%s", line)
	}
	t.lines = nil
}

// runStep runs one step under a "name:" progress header. Steps that did not
// go through steps.Execute (which logs each action) log their changes here.
func runStep(env *steps.Env, name string, fn func() ([]report.Change, error)) (*report.Step, error) {
	logf(env, "%s:", name)
	changes, err := fn()
	st := &report.Step{Name: name, Changes: changes}
	if name == "host_keys" || name == "user" || name == "authorized_keys" {
		for _, c := range changes {
			what := c.Path
			if c.Command != "" {
				what = c.Command
			}
			logf(env, "  %s %s: %s", c.Kind, what, c.Summary)
		}
	}
	if err != nil {
		st.Error = err.Error()
	}
	return st, err
}
