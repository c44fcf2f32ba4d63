package runner

import (
	"context"
	"strings"
	"sync"
)

// Recorder is a Runner for tests and dry runs: it records every command and
// answers from a table of canned results keyed by command prefix.
type Recorder struct {
	mu        sync.Mutex
	Commands  []Cmd
	Responses map[string]Result // key: the start of Cmd.String(); longest match wins
}

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
