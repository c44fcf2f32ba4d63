package testroot

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// SysVScriptRel builds the Debian 12 root with SysV init (sysvinit-core).
const SysVScriptRel = "scripts/build-root-sysv.sh"

// SysVTarballPath is where the cached SysV root lives (it may not exist yet):
// <CacheDir>/roots/debian-sysv-bookworm-<Key>.tar, keyed by its own script.
func SysVTarballPath() (string, error) {
	repo, err := RepoRoot()
	if err != nil {
		return "", err
	}
	data, err := os.ReadFile(filepath.Join(repo, SysVScriptRel))
	if err != nil {
		return "", fmt.Errorf("testroot: %w", err)
	}
	return filepath.Join(CacheDir(), "roots", "debian-sysv-bookworm-"+Key(data)+".tar"), nil
}

// BuildSysV returns the cached SysV root tarball, building it first when it
// is missing (serialized by a flock beside it, like Build). Measured on a
// 2-core machine: see scripts/build-root-sysv.sh.
func BuildSysV(logf func(format string, args ...any)) (string, error) {
	if logf == nil {
		logf = func(string, ...any) {}
	}
	tar, err := SysVTarballPath()
	if err != nil {
		return "", err
	}
	if _, err := os.Stat(tar); err == nil {
		return tar, nil
	}
	if err := os.MkdirAll(filepath.Dir(tar), 0o755); err != nil {
		return "", err
	}
	lock, err := os.OpenFile(strings.TrimSuffix(tar, ".tar")+".lock", os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return "", err
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		return "", fmt.Errorf("testroot: flock: %w", err)
	}
	defer syscall.Flock(int(lock.Fd()), syscall.LOCK_UN)
	if _, err := os.Stat(tar); err == nil {
		return tar, nil
	}
	if os.Geteuid() != 0 {
		return "", errNeedRoot
	}
	if _, err := exec.LookPath("mmdebstrap"); err != nil {
		return "", errNoMmdebstrap
	}
	repo, err := RepoRoot()
	if err != nil {
		return "", err
	}
	logPath := strings.TrimSuffix(tar, ".tar") + ".log"
	lf, err := os.Create(logPath)
	if err != nil {
		return "", err
	}
	defer lf.Close()
	logf("testroot: building %s with %s (log: %s)", filepath.Base(tar), SysVScriptRel, logPath)
	start := time.Now()
	cmd := exec.Command("bash", filepath.Join(repo, SysVScriptRel), tar)
	cmd.Stdout, cmd.Stderr = lf, lf
	cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("testroot: %s: %v\n%s", SysVScriptRel, err, tail(logPath, 30))
	}
	logf("testroot: built %s in %s", filepath.Base(tar), time.Since(start).Round(time.Second))
	return tar, nil
}

// DebianSysV returns a fresh, writable copy of the cached SysV Debian 12 root
// in t.TempDir(). It skips when not root, or when mmdebstrap is missing and
// nothing is cached.
func DebianSysV(t testing.TB) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("testroot: needs root (mmdebstrap --mode=root, tar with real owners)")
	}
	if p, err := SysVTarballPath(); err == nil {
		if _, err := os.Stat(p); err != nil {
			if _, err := exec.LookPath("mmdebstrap"); err != nil {
				t.Skip("testroot: mmdebstrap is not installed and no cached SysV root exists")
			}
		}
	}
	tar, err := BuildSysV(t.Logf)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := Extract(tar, dir); err != nil {
		t.Fatal(err)
	}
	return dir
}
