package testroot

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
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
	repo, err := RepoRoot()
	if err != nil {
		return "", err
	}
	if err := buildLocked(tar, SysVScriptRel, logf, filepath.Join(repo, SysVScriptRel), tar); err != nil {
		return "", err
	}
	return tar, nil
}

// DebianSysV returns a fresh, writable copy of the cached SysV Debian 12 root
// in t.TempDir(). It skips when not root, or when mmdebstrap is missing and
// nothing is cached. The root boots too (kernel, initramfs, ifupdown): see
// scripts/build-root-sysv.sh.
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
	start := time.Now()
	if err := Extract(tar, dir); err != nil {
		t.Fatal(err)
	}
	t.Logf("testroot: SysV root extracted to %s in %s", dir, time.Since(start).Round(time.Millisecond))
	return dir
}
