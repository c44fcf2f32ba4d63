package runner

import (
	"context"
	"fmt"
	"strings"
	"sync"
)

// Recorder is a Runner for tests: it records every command and answers from
// a table of canned results keyed by command prefix. A command it has no
// answer for fails with ErrNoAnswer, so a test cannot pass by a command it
// did not expect "succeeding".
type Recorder struct {
	mu        sync.Mutex
	Commands  []Cmd
	Responses map[string]Result // key: the start of Cmd.String(); longest match wins
}

// ErrNoAnswer is a command the Recorder has no canned result for.
var ErrNoAnswer = fmt.Errorf("recorder: no canned result for this command")

// Run implements Runner.
func (r *Recorder) Run(_ context.Context, c Cmd) (Result, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.Commands = append(r.Commands, c)
	s := c.String()
	best := -1
	var res Result
	for k, v := range r.Responses {
		if strings.HasPrefix(s, k) && len(k) > best {
			best, res = len(k), v
		}
	}
	if best < 0 {
		return Result{ExitCode: 127}, fmt.Errorf("%s: %w", s, ErrNoAnswer)
	}
	if res.ExitCode != 0 {
		return res, &ExitError{Cmd: c, Result: res}
	}
	return res, nil
}

// Strings returns the recorded commands as strings, for comparisons.
func (r *Recorder) Strings() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]string, len(r.Commands))
	for i, c := range r.Commands {
		out[i] = c.String()
	}
	return out
}
