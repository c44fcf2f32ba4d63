package e2e

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hardbake/hardbake/internal/testroot"
)

// tally counts the checks (subtests run through check) for the last line.
var tally struct {
	sync.Mutex
	passed, failed, skipped int
}

func enabled() bool { return os.Getenv("HARDBAKE_E2E") == "1" }

func TestMain(m *testing.M) {
	start := time.Now()
	code := m.Run()
	if enabled() {
		tally.Lock()
		fmt.Printf("e2e: wall time %s, %d check(s) skipped\n", time.Since(start).Round(time.Second), tally.skipped)
		fmt.Printf("e2e: %d passed, %d failed\n", tally.passed, tally.failed)
		tally.Unlock()
	}
	os.Exit(code)
}

// check runs f as the subtest name and counts its outcome.
func check(t *testing.T, name string, f func(t *testing.T)) bool {
	t.Helper()
	skipped := false
	ok := t.Run(name, func(t *testing.T) {
		defer func() { skipped = t.Skipped() }()
		f(t)
	})
	tally.Lock()
	defer tally.Unlock()
	switch {
	case skipped:
		tally.skipped++
	case ok:
		tally.passed++
	default:
		tally.failed++
	}
	return ok
}

func repoRoot(t testing.TB) string {
	t.Helper()
	dir, err := testroot.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// runLogged runs cmd with its output streamed into the test log line by line
// (and kept in a file), and returns its error.
func runLogged(t *testing.T, cmd *exec.Cmd, logFile string) error {
	t.Helper()
	f, err := os.Create(logFile)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	done := make(chan struct{})
	go func() {
		defer close(done)
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 64*1024), 1024*1024)
		for sc.Scan() {
			line := sc.Text()
			fmt.Fprintln(f, line)
			t.Log(line)
		}
		io.Copy(io.Discard, pr)
	}()
	err = cmd.Run()
	pw.Close()
	<-done
	return err
}

// hardbakeHas reports whether bin/hardbake knows a command or flag: help
// output of `hardbake help` (args empty) or `hardbake ARGS --help`.
func hardbakeHas(t *testing.T, repo, needle string, args ...string) bool {
	t.Helper()
	out, _ := exec.Command(filepath.Join(repo, "bin/hardbake"), append(args, "--help")...).CombinedOutput()
	if len(args) == 0 {
		out, _ = exec.Command(filepath.Join(repo, "bin/hardbake"), "help").CombinedOutput()
	}
	return strings.Contains(string(out), needle)
}
