package e2e

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/hardbake/hardbake/internal/baseimage"
	"github.com/hardbake/hardbake/internal/testroot"
)

// The benchmark boots a golden image that scripts/pipeline.sh build (one
// packer build, minutes under TCG) made from this checkout's binaries. It
// is cached under <cache>/golden, keyed by everything the build reads: the
// plugin binary (which embeds bin/hardbake), the template, the pipeline
// script and the base image (whose directory name is its own cache key).
// TestPipeline, which always builds afresh, files its image there too
// (storeGolden), so `make bench` after `make e2e` needs no second build.

// goldenFiles are what a cached golden image directory holds.
var goldenFiles = []string{"disk.raw", "vmlinuz", "initrd.img", "report.json"}

// goldenDir is the cache directory of the golden image that the current
// bin/ and the suite's base image make.
func goldenDir(repo string, base baseimage.Image) (string, error) {
	h := sha256.New()
	fmt.Fprintf(h, "%s\n%s\n", base.Suite, filepath.Base(base.Dir))
	for _, f := range []string{"bin/packer-plugin-hardbake", "examples/packer/debian-12.pkr.hcl", "scripts/pipeline.sh"} {
		in, err := os.Open(filepath.Join(repo, f))
		if err != nil {
			return "", err
		}
		fmt.Fprintf(h, "%s\n", f)
		_, err = io.Copy(h, in)
		in.Close()
		if err != nil {
			return "", err
		}
	}
	sum := hex.EncodeToString(h.Sum(nil))[:12]
	return filepath.Join(testroot.CacheDir(), "golden", fmt.Sprintf("debian-%s-%s", base.Suite, sum)), nil
}

func goldenComplete(dir string) bool {
	for _, f := range goldenFiles {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			return false
		}
	}
	return true
}

// goldenImage returns the cached golden image of suite for the current
// bin/, running scripts/pipeline.sh build first when there is none.
func goldenImage(tb testing.TB, repo, suite string) string {
	tb.Helper()
	base, err := baseimage.Build(suite, tb.Logf)
	if err != nil {
		tb.Fatal(err)
	}
	dir, err := goldenDir(repo, base)
	if err != nil {
		tb.Fatalf("%v (make build makes bin/)", err)
	}
	if goldenComplete(dir) {
		tb.Logf("golden image: %s (cached)", dir)
		return dir
	}
	unlock := lockGolden(tb, dir)
	defer unlock()
	if goldenComplete(dir) {
		return dir
	}
	work, err := os.MkdirTemp(filepath.Dir(dir), ".build-")
	if err != nil {
		tb.Fatal(err)
	}
	defer os.RemoveAll(work)
	start := time.Now()
	cmd := exec.Command("bash", filepath.Join(repo, "scripts/pipeline.sh"), "build", work)
	cmd.Dir = repo
	cmd.Env = append(os.Environ(), "SUITE="+suite)
	if out, err := cmd.CombinedOutput(); err != nil {
		tb.Fatalf("scripts/pipeline.sh build: %v\n%s", err, tail(string(out), 60))
	}
	if err := os.Rename(filepath.Join(work, "report.json"), filepath.Join(work, "image", "report.json")); err != nil {
		tb.Fatal(err)
	}
	// The build took bin/ as it was when packer installed the plugin: when
	// bin/ changed meanwhile (make build in the same tree), the image
	// belongs to neither key and stays out of the cache.
	if again, err := goldenDir(repo, base); err != nil || again != dir {
		image, err := os.MkdirTemp("", "hardbake-golden-")
		if err != nil {
			tb.Fatal(err)
		}
		tb.Cleanup(func() { os.RemoveAll(image) })
		os.Remove(image)
		if err := os.Rename(filepath.Join(work, "image"), image); err != nil {
			tb.Fatal(err)
		}
		tb.Logf("golden image: bin/ changed during the build; %s is used once, not cached", image)
		return image
	}
	os.RemoveAll(dir) // an incomplete leftover
	if err := os.Rename(filepath.Join(work, "image"), dir); err != nil {
		tb.Fatal(err)
	}
	tb.Logf("golden image: built %s in %s", dir, time.Since(start).Round(time.Second))
	pruneGolden(tb, dir)
	return dir
}

// goldenCacheDir is where the golden image of the current bin/ goes, or ""
// when that cannot be known.
func goldenCacheDir(t *testing.T, repo, suite string) string {
	base, err := baseimage.Build(suite, t.Logf)
	if err != nil {
		t.Logf("golden cache: %v", err)
		return ""
	}
	dir, err := goldenDir(repo, base)
	if err != nil {
		t.Logf("golden cache: %v", err)
		return ""
	}
	return dir
}

// storeGolden files the image TestPipeline just built (work/image and
// work/report.json) in the cache by hard links: its boots use -snapshot
// and the power cut boots a copy, so the files stay as built. before is
// goldenCacheDir from before the build: when bin/ changed during the build
// the image belongs to neither key and is not filed.
func storeGolden(t *testing.T, repo, suite, work, before string) {
	dir := goldenCacheDir(t, repo, suite)
	if dir == "" || dir != before {
		t.Logf("golden cache: bin/ changed during the build; this image is not filed")
		return
	}
	if goldenComplete(dir) {
		return
	}
	unlock := lockGolden(t, dir)
	defer unlock()
	tmp, err := os.MkdirTemp(filepath.Dir(dir), ".store-")
	if err != nil {
		t.Logf("golden cache: %v", err)
		return
	}
	defer os.RemoveAll(tmp)
	for _, f := range goldenFiles {
		src := filepath.Join(work, "image", f)
		if f == "report.json" {
			src = filepath.Join(work, f)
		}
		if err := os.Link(src, filepath.Join(tmp, f)); err != nil {
			t.Logf("golden cache: %v", err)
			return
		}
	}
	os.RemoveAll(dir)
	if err := os.Rename(tmp, dir); err != nil {
		t.Logf("golden cache: %v", err)
		return
	}
	t.Logf("golden cache: this build's image is %s now", dir)
	pruneGolden(t, dir)
}

// lockGolden serializes builds of one golden image (flock on dir.lock).
func lockGolden(tb testing.TB, dir string) (unlock func()) {
	tb.Helper()
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		tb.Fatal(err)
	}
	lock, err := os.OpenFile(dir+".lock", os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		tb.Fatal(err)
	}
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		lock.Close()
		tb.Fatalf("flock %s: %v", lock.Name(), err)
	}
	return func() {
		syscall.Flock(int(lock.Fd()), syscall.LOCK_UN)
		lock.Close()
	}
}

// pruneGolden removes the suite's golden images made from other inputs
// (each holds a disk of about 1.5 GiB), keeping keep.
func pruneGolden(tb testing.TB, keep string) {
	suitePrefix := keep[:len(keep)-len("123456789012")]
	old, _ := filepath.Glob(suitePrefix + "*")
	for _, p := range old {
		if p == keep || p == keep+".lock" || filepath.Ext(p) == ".lock" {
			continue
		}
		tb.Logf("golden cache: removing the outdated %s", p)
		os.RemoveAll(p)
	}
}
