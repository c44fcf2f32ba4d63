package firstboot

import (
	"context"
	"crypto/sha256"
	"fmt"
	"io/fs"
	"slices"
	"strings"
	"sync"

	"github.com/hardbake/hardbake/bootstrap/root"
	"github.com/hardbake/hardbake/bootstrap/runner"
	"github.com/hardbake/hardbake/bootstrap/sshdconfig"
	"github.com/hardbake/hardbake/bootstrap/steps"
)

// sshdAnswers is the Runner of one firstboot run: it remembers the answers
// of the target's sshd to questions that the steps ask more than once and
// whose answer cannot change in between. Each sshd start in a chroot costs
// several milliseconds (it loads every host key), and without this a
// firstboot started sshd 14 times, more than half of its run time:
//
//   - `sshd -V` (the binary does not change during a run);
//   - the ssh step's algorithm probes `sshd -t ... -o Keyword=list`, asked by
//     its Plan and again by its Check: a list sshd accepted once names only
//     algorithms this binary knows;
//   - `sshd -T` while the configuration files and host keys are byte for byte
//     what they were (the firewall and fail2ban steps read the ports that the
//     ssh step's check has just printed).
//
// Only successful answers are kept. A plain `sshd -t` (the validation after
// a write) and every other command always run.
//
// firstboot's lanes share one sshdAnswers; mu guards memo.
type sshdAnswers struct {
	runner.Runner
	root  *root.Root
	mu    sync.Mutex
	memo  map[string]runner.Result
	asked map[string]bool // -T commands run once already
	early *runner.Early   // `sshd -T` started before its configuration was written
}

// mounterAnswers keeps the inner Runner's Mounter (chroot mounts for package
// installs) visible through the wrapper.
type mounterAnswers struct{ *sshdAnswers }

func (m mounterAnswers) WithSystem(ctx context.Context, fn func() error) error {
	return m.Runner.(runner.Mounter).WithSystem(ctx, fn)
}

// rememberSSHD returns env with its Runner wrapped in sshdAnswers.
func rememberSSHD(env *steps.Env) *steps.Env {
	if env.Run == nil {
		return env
	}
	a := &sshdAnswers{Runner: env.Run, root: env.Root, memo: map[string]runner.Result{}}
	e := *env
	e.Run = a
	if _, ok := env.Run.(runner.Mounter); ok {
		e.Run = mounterAnswers{a}
	}
	return &e
}

// Run implements runner.Runner.
func (a *sshdAnswers) Run(ctx context.Context, c runner.Cmd) (runner.Result, error) {
	if memoizable(c) && c.Args[0] == "-T" && a.firstAsk(c) {
		// Nothing to remember yet: sshd runs at once, and the state it
		// answers for is fingerprinted meanwhile (only the sshd lane writes
		// what sshd reads, and it is waiting for this answer).
		state := make(chan string, 1)
		go func() {
			s, err := a.configState()
			if err != nil {
				s = ""
			}
			state <- s
		}()
		res, ok := a.feedEarly(ctx, c)
		var err error
		if !ok {
			res, err = a.Runner.Run(ctx, c)
		}
		if s := <-state; err == nil && s != "" {
			a.store(c.String()+"\x00"+s, res)
		}
		return res, err
	}
	key, ok := a.key(c)
	if !ok {
		return a.Runner.Run(ctx, c)
	}
	a.mu.Lock()
	res, ok := a.memo[key]
	a.mu.Unlock()
	if ok {
		return res, nil
	}
	res, err := a.Runner.Run(ctx, c)
	if err == nil {
		a.store(key, res)
	}
	return res, err
}

func (a *sshdAnswers) store(key string, res runner.Result) {
	a.mu.Lock()
	a.memo[key] = res
	a.mu.Unlock()
}

// memoizable reports whether c is a question to the target's sshd whose
// answer may be remembered: `-V`, an algorithm probe (`-t ... -o`) or `-T`,
// with nothing of its own (no input, no environment, no other host key).
func memoizable(c runner.Cmd) bool {
	if c.Name != steps.SSHDBinary || len(c.Stdin) > 0 || len(c.Env) > 0 || len(c.Args) == 0 || slices.Contains(c.Args, "-h") {
		return false
	}
	return slices.Equal(c.Args, []string{"-V"}) || c.Args[0] == "-T" || (c.Args[0] == "-t" && slices.Contains(c.Args, "-o"))
}

// firstAsk reports whether c is asked for the first time in this run, and
// records that it was.
func (a *sshdAnswers) firstAsk(c runner.Cmd) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.asked == nil {
		a.asked = map[string]bool{}
	}
	s := c.String()
	if a.asked[s] {
		return false
	}
	a.asked[s] = true
	return true
}

// key says whether c is a question that may be answered from memory, and
// under which key: an answer of `-T` holds while the files it read are the
// same.
func (a *sshdAnswers) key(c runner.Cmd) (string, bool) {
	if !memoizable(c) {
		return "", false
	}
	if c.Args[0] != "-T" {
		return c.String(), true
	}
	state, err := a.configState()
	if err != nil {
		return "", false
	}
	return c.String() + "\x00" + state, true
}

// configState fingerprints what `sshd -T` reads: the configuration files
// (following Include) and the host keys.
func (a *sshdAnswers) configState() (string, error) {
	read := &readsFS{root: a.root, files: map[string]readFile{}}
	cfg, err := sshdconfig.Load(read, steps.SSHDConfig)
	if err != nil {
		return "", err
	}
	keys, err := a.root.Glob("/etc/ssh/ssh_host_*")
	if err != nil {
		return "", err
	}
	h := sha256.New()
	for _, f := range append(slices.Clone(cfg.Files), keys...) {
		rf, ok := read.files[f]
		if !ok {
			if rf.data, rf.info, err = a.root.ReadFileInfo(f); err != nil {
				return "", err
			}
		}
		fmt.Fprintf(h, "%s\x00%v\x00%d\x00", f, rf.info.Mode(), len(rf.data))
		h.Write(rf.data)
	}
	return strings.ToLower(fmt.Sprintf("%x", h.Sum(nil))), nil
}

// readsFS reads for sshdconfig.Load and keeps each file's bytes and mode:
// the fingerprint hashes what was parsed, without reading it again.
type readsFS struct {
	root  *root.Root
	files map[string]readFile
}

type readFile struct {
	data []byte
	info fs.FileInfo
}

func (r *readsFS) ReadFile(name string) ([]byte, error) {
	data, info, err := r.root.ReadFileInfo(name)
	if err == nil {
		r.files[name] = readFile{data, info}
	}
	return data, err
}

func (r *readsFS) Glob(pattern string) ([]string, error) { return r.root.Glob(pattern) }

// feedEarly answers `sshd -T -f /etc/ssh/sshd_config` with the sshd started
// before the configuration was written (internal/earlysshd), giving it the
// main file as it is now on stdin: the same question, since sshd resolves
// Include against /etc/ssh whatever -f names. Only an acceptance is taken
// from it (ok): a refusal, or a run that went wrong in any other way (a
// /proc that is not procfs, say), is asked again the ordinary way, so that
// what sshd refuses and how it words it is always its answer for the file
// itself. ok is false, too, for any other command or without an early sshd.
func (a *sshdAnswers) feedEarly(ctx context.Context, c runner.Cmd) (runner.Result, bool) {
	if c.Name != steps.SSHDBinary || !slices.Equal(c.Args, []string{"-T", "-f", steps.SSHDConfig}) {
		return runner.Result{}, false
	}
	early := a.takeEarly()
	if early == nil {
		return runner.Result{}, false
	}
	data, err := a.root.ReadFile(steps.SSHDConfig)
	if err != nil {
		early.Cancel()
		return runner.Result{}, false
	}
	res, err := early.Feed(ctx, data)
	return res, err == nil
}

// takeEarly hands over the early sshd once (nil when there is none).
func (a *sshdAnswers) takeEarly() *runner.Early {
	a.mu.Lock()
	defer a.mu.Unlock()
	early := a.early
	a.early = nil
	return early
}

// stopEarly kills an early sshd nobody asked.
func (a *sshdAnswers) stopEarly() {
	if early := a.takeEarly(); early != nil {
		early.Cancel()
	}
}

// sshdAnswersOf finds the sshdAnswers rememberSSHD put into env.
func sshdAnswersOf(env *steps.Env) (*sshdAnswers, bool) {
	switch r := env.Run.(type) {
	case *sshdAnswers:
		return r, true
	case mounterAnswers:
		return r.sshdAnswers, true
	}
	return nil, false
}
