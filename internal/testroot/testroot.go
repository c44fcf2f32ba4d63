// Package testroot gives tests real Debian roots built with mmdebstrap.
//
// A root is built once per suite by scripts/build-root.sh into a tarball under
// $HARDBAKE_CACHE/roots (default ~/.cache/hardbake/roots) and every test gets a
// private, writable copy extracted from it into t.TempDir(). The same root is
// the base of the QEMU images in internal/vm, so it carries a kernel, an
// initramfs, cloud-init and openssh-server.
//
// The cache key is a short hash of the build script with its comments and
// blank lines left out: the script holds the package lists and the
// mmdebstrap options, so changing what goes into a root makes a new tarball,
// while editing its documentation does not. Builds are atomic (temporary file
// plus rename, done by the script) and serialized by a flock on a lock file
// beside the tarball, so parallel `go test` processes build a suite once and
// the others wait for it. Nothing depends on the cache being there: a cold
// cache costs one build per suite (about a minute or two each, see Build).
//
// Gotchas: extraction needs --xattrs-include='*' besides --xattrs (GNU tar
// restores only user.* xattrs otherwise, losing file capabilities); the
// trixie root's /etc/resolv.conf is a symlink to systemd-resolved's stub in
// /run, so name resolution inside a chroot of it fails unless the caller
// provides a resolv.conf.
package testroot

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Suites are the Debian suites build-root.sh knows.
var Suites = []string{"bookworm", "trixie"}

// ScriptRel is the build script's path relative to the repository root.
const ScriptRel = "scripts/build-root.sh"

// CacheDir is $HARDBAKE_CACHE, or ~/.cache/hardbake.
func CacheDir() string {
	if d := os.Getenv("HARDBAKE_CACHE"); d != "" {
		return d
	}
	home, err := os.UserHomeDir()
	if err != nil || home == "" {
		home = "/root"
	}
	return filepath.Join(home, ".cache", "hardbake")
}

// RepoRoot finds the repository root: the nearest directory above the working
// directory (or, failing that, above this source file) whose go.mod declares
// the hardbake module.
func RepoRoot() (string, error) {
	var starts []string
	if wd, err := os.Getwd(); err == nil {
		starts = append(starts, wd)
	}
	if _, file, _, ok := runtime.Caller(0); ok && filepath.IsAbs(file) {
		starts = append(starts, filepath.Dir(file))
	}
	for _, dir := range starts {
		for {
			data, err := os.ReadFile(filepath.Join(dir, "go.mod"))
			if err == nil && bytes.Contains(data, []byte("module github.com/hardbake/hardbake\n")) {
				return dir, nil
			}
			parent := filepath.Dir(dir)
			if parent == dir {
				break
			}
			dir = parent
		}
	}
	return "", errors.New("testroot: cannot find the hardbake repository (go.mod) above the working directory")
}

// ScriptPath is the absolute path of scripts/build-root.sh.
func ScriptPath() (string, error) {
	root, err := RepoRoot()
	if err != nil {
		return "", err
	}
	p := filepath.Join(root, ScriptRel)
	if _, err := os.Stat(p); err != nil {
		return "", fmt.Errorf("testroot: %w", err)
	}
	return p, nil
}

// Key is the cache key of the build script: the first 12 hex digits of the
// SHA-256 of its lines that are neither blank nor comments.
func Key(script []byte) string {
	h := sha256.New()
	sc := bufio.NewScanner(bytes.NewReader(script))
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		h.Write([]byte(line))
		h.Write([]byte{'\n'})
	}
	return hex.EncodeToString(h.Sum(nil))[:12]
}

func checkSuite(suite string) error {
	for _, s := range Suites {
		if s == suite {
			return nil
		}
	}
	return fmt.Errorf("testroot: unknown suite %q (have %s)", suite, strings.Join(Suites, ", "))
}

// TarballPath is where the cached tarball for suite lives (it may not exist
// yet): <CacheDir>/roots/debian-<suite>-<Key>.tar.
func TarballPath(suite string) (string, error) {
	if err := checkSuite(suite); err != nil {
		return "", err
	}
	script, err := ScriptPath()
	if err != nil {
		return "", err
	}
	data, err := os.ReadFile(script)
	if err != nil {
		return "", err
	}
	return filepath.Join(CacheDir(), "roots", fmt.Sprintf("debian-%s-%s.tar", suite, Key(data))), nil
}

var (
	memoMu sync.Mutex
	memo   = map[string]string{}      // suite -> built tarball
	locks  = map[string]*sync.Mutex{} // suite -> in-process build lock
)

func suiteLock(suite string) *sync.Mutex {
	memoMu.Lock()
	defer memoMu.Unlock()
	if locks[suite] == nil {
		locks[suite] = new(sync.Mutex)
	}
	return locks[suite]
}

func remember(suite, tar string) {
	memoMu.Lock()
	memo[suite] = tar
	memoMu.Unlock()
}

// Build returns the cached tarball for suite, building it first with
// scripts/build-root.sh when it is missing. Concurrent callers, in this
// process or others, wait on a flock and build once. Progress lines go to
// logf (may be nil); mmdebstrap's full output is kept in <tarball>.log.
// Needs root and mmdebstrap when it has to build. Measured on a 2-core
// machine from deb.debian.org: bookworm 56-96 s (429 MiB tar), trixie ~65 s
// (378 MiB); extracting a copy takes 1-8 s depending on the page cache.
func Build(suite string, logf func(format string, args ...any)) (string, error) {
	if logf == nil {
		logf = func(string, ...any) {}
	}
	l := suiteLock(suite)
	l.Lock()
	defer l.Unlock()
	memoMu.Lock()
	p, ok := memo[suite]
	memoMu.Unlock()
	if ok {
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	tar, err := TarballPath(suite)
	if err != nil {
		return "", err
	}
	if _, err := os.Stat(tar); err == nil {
		remember(suite, tar)
		return tar, nil
	}
	script, err := ScriptPath()
	if err != nil {
		return "", err
	}
	if err := buildLocked(tar, ScriptRel+" "+suite, logf, script, suite, tar); err != nil {
		return "", err
	}
	remember(suite, tar)
	return tar, nil
}

// buildLocked runs a root-building script (argv after "bash") that writes
// tar, unless tar already exists, holding a flock beside tar so concurrent
// callers in any process build once. The script's output goes to
// <tar>.log, whose tail is shown on failure.
func buildLocked(tar, what string, logf func(format string, args ...any), scriptArgs ...string) error {
	if err := os.MkdirAll(filepath.Dir(tar), 0o755); err != nil {
		return err
	}
	lock, err := os.OpenFile(strings.TrimSuffix(tar, ".tar")+".lock", os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return err
	}
	defer lock.Close()
	logf("testroot: waiting for the build lock of %s", filepath.Base(tar))
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		return fmt.Errorf("testroot: flock: %w", err)
	}
	defer syscall.Flock(int(lock.Fd()), syscall.LOCK_UN)
	// Someone else may have built it while we waited.
	if _, err := os.Stat(tar); err == nil {
		return nil
	}
	if os.Geteuid() != 0 {
		return errNeedRoot
	}
	if _, err := exec.LookPath("mmdebstrap"); err != nil {
		return errNoMmdebstrap
	}
	logPath := strings.TrimSuffix(tar, ".tar") + ".log"
	lf, err := os.Create(logPath)
	if err != nil {
		return err
	}
	defer lf.Close()
	logf("testroot: building %s with %s (log: %s)", filepath.Base(tar), what, logPath)
	start := time.Now()
	cmd := exec.Command("bash", scriptArgs...)
	cmd.Stdout, cmd.Stderr = lf, lf
	cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("testroot: %s: %v\n%s", what, err, tail(logPath, 30))
	}
	st, err := os.Stat(tar)
	if err != nil {
		return fmt.Errorf("testroot: %s left no tarball: %w", what, err)
	}
	logf("testroot: built %s in %s (%d MiB)", filepath.Base(tar), time.Since(start).Round(time.Second), st.Size()>>20)
	return nil
}

var (
	errNeedRoot     = errors.New("testroot: building a Debian root needs root (mmdebstrap --mode=root)")
	errNoMmdebstrap = errors.New("testroot: mmdebstrap is not installed (make deps installs it)")
)

func tail(path string, n int) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// Extract unpacks a root tarball into dir (which must exist) preserving
// ownership by number, permissions, device nodes and extended attributes
// (file capabilities live in security.* xattrs, which GNU tar restores only
// with --xattrs-include='*').
func Extract(tarPath, dir string) error {
	cmd := exec.Command("tar", "--xattrs", "--xattrs-include=*", "--numeric-owner", "-xpf", tarPath, "-C", dir)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("testroot: extracting %s: %v\n%s", tarPath, err, out)
	}
	return nil
}

// skipReason says why this machine cannot give a root, or "".
func skipReason(suite string) string {
	if os.Geteuid() != 0 {
		return "testroot: needs root (mmdebstrap --mode=root, tar with real owners and device nodes)"
	}
	if p, err := TarballPath(suite); err == nil {
		if _, err := os.Stat(p); err == nil {
			return ""
		}
	}
	if _, err := exec.LookPath("mmdebstrap"); err != nil {
		return "testroot: mmdebstrap is not installed and no cached root exists (make deps installs mmdebstrap)"
	}
	return ""
}

// Tarball returns the path of the cached root tarball for suite ("bookworm"
// or "trixie"), building it when missing. It skips the test when not root or
// when mmdebstrap is missing and nothing is cached, and fails it when the
// build fails.
func Tarball(t testing.TB, suite string) string {
	t.Helper()
	if err := checkSuite(suite); err != nil {
		t.Fatal(err)
	}
	if why := skipReason(suite); why != "" {
		t.Skip(why)
	}
	p, err := Build(suite, t.Logf)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// Debian returns a fresh, writable, private copy of the cached Debian root for
// suite, extracted into t.TempDir() (removed when the test ends). See Tarball
// for when it skips.
func Debian(t testing.TB, suite string) string {
	t.Helper()
	tar := Tarball(t, suite)
	dir := t.TempDir()
	start := time.Now()
	if err := Extract(tar, dir); err != nil {
		t.Fatal(err)
	}
	t.Logf("testroot: %s root extracted to %s in %s", suite, dir, time.Since(start).Round(time.Millisecond))
	return dir
}
