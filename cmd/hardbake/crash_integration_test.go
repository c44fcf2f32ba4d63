//go:build linux && amd64

package main

// Crash safety, proven by killing the real binary. testdata/killtrace runs
// `hardbake bake` or `hardbake firstboot` under ptrace(2), numbers every
// point where it changes a file (open for writing, rename, remove, mkdir,
// link, chmod, chown) or starts and reaps a command, and SIGKILLs it at one
// chosen point: before the system call runs; for a command, before it is
// started, or after it ran and was reaped but before hardbake saw its
// result. Every point is killed on its own fresh overlayfs copy of the same
// Debian 12 root, so each starts from the same bytes, and the run up to the
// kill is checked to be the uninterrupted run's, event for event.
//
// After each kill the root must be safe as it is (a crash can be the last
// thing that happens to an image), and a plain rerun must finish the job:
//   - sshd -t passes, and sshd -T reports permitrootlogin,
//     passwordauthentication and kbdinteractiveauthentication "no" (also for
//     the user of the Match block hostile() adds), or the files sshd reads
//     its configuration from are byte-identical to the original ones: never
//     a mix;
//   - every path the killed run changed is either as it was or as the
//     uninterrupted run leaves it (content, mode, owner): nothing half
//     written. A crashCase names the few paths that legitimately hold a
//     third state mid-way (hardbake's temp files, policy-rc.d during a
//     package removal, random host keys);
//   - the rerun exits 0 with the uninterrupted run's checks, every path
//     then is as the uninterrupted run leaves it (no stray temp file), and
//     one more run reports "changed": 0.
//
// Killtrace is a ptrace tracer of our own rather than strace --inject
// because strace counts system calls per thread, and a Go program makes them
// from whichever thread runs the goroutine: "the 7th rename" would not be
// the same rename in two runs. Killtrace counts over all threads.
//
// Which runs: the bake of ssh, firstboot and seal (no package manager), the
// services bake (apt-get purge of exim4 and rpcbind, ~7 s: its own bake so
// that the other steps' points do not each pay for a purge), and the first
// boot on the baked and sealed root with host data. Every point of each is
// killed, two at a time. The steps that install packages from the Debian
// mirror (updates, fail2ban, firewall) are left out: a network install is
// neither deterministic nor fast enough to repeat at every point.

import (
	"bufio"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/hardbake/hardbake/bootstrap/firstboot"
	"github.com/hardbake/hardbake/bootstrap/host"
	"github.com/hardbake/hardbake/bootstrap/report"
	"github.com/hardbake/hardbake/internal/testroot"
)

var (
	killtraceOnce sync.Once
	killtracePath string
	killtraceErr  error
)

// killtraceBin builds testdata/killtrace beside the hardbake binary (the
// directory TestMain removes).
func killtraceBin(t *testing.T) string {
	t.Helper()
	bin := hardbakeBin(t)
	killtraceOnce.Do(func() {
		killtracePath = filepath.Join(filepath.Dir(bin), "killtrace")
		cmd := exec.Command("go", "build", "-o", killtracePath, "./testdata/killtrace")
		if out, err := cmd.CombinedOutput(); err != nil {
			killtraceErr = fmt.Errorf("go build killtrace: %v\n%s", err, out)
		}
	})
	if killtraceErr != nil {
		t.Fatal(killtraceErr)
	}
	return killtracePath
}

// ktEvent and ktResult are killtrace's JSON lines.
type ktEvent struct {
	N    int    `json:"n"`
	Kind string `json:"kind"`
	Path string `json:"path"`
	To   string `json:"to"`
}

type ktResult struct {
	Exit     int      `json:"exit"`
	KilledAt int      `json:"killed_at"`
	Mounts   []string `json:"mounts"`
}

type tracedRun struct {
	events []ktEvent
	res    ktResult
	result // hardbake's stdout, stderr and exit code
}

// happened is the run's events that took effect: the kill point itself
// did not when it comes before its system call (all kinds but a write's
// open and a command's reaping, which the kill follows).
func (r tracedRun) happened() []ktEvent {
	if n := len(r.events); r.res.KilledAt > 0 && n > 0 && r.events[n-1].Kind != "write" && r.events[n-1].Kind != "end" {
		return r.events[:n-1]
	}
	return r.events
}

// traced runs hardbake under killtrace, killed at event killAt (0: never).
func traced(t *testing.T, killAt int, args ...string) tracedRun {
	t.Helper()
	evFile := filepath.Join(t.TempDir(), "events.json")
	cmd := exec.Command(killtraceBin(t), append([]string{"-kill", fmt.Sprint(killAt), "-events", evFile, "--", hardbakeBin(t)}, args...)...)
	var o, e strings.Builder
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	var run tracedRun
	run.stdout, run.stderr = o.String(), e.String()
	if ee, ok := err.(*exec.ExitError); ok {
		run.code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(evFile)
	if err != nil {
		t.Fatalf("killtrace wrote no events (exit %d): %v\n%s", run.code, err, run.stderr)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	var lines []string
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	if len(lines) == 0 {
		t.Fatalf("killtrace: empty events file\n%s", run.stderr)
	}
	for _, l := range lines[:len(lines)-1] {
		var ev ktEvent
		if err := json.Unmarshal([]byte(l), &ev); err != nil {
			t.Fatalf("killtrace event %q: %v", l, err)
		}
		run.events = append(run.events, ev)
	}
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &run.res); err != nil {
		t.Fatalf("killtrace result %q: %v", lines[len(lines)-1], err)
	}
	return run
}

// overlay mounts an overlayfs with lower (a directory, or another overlay's
// merged directory) below a fresh upper directory, and returns the merged
// and the upper directory. The upper directory holds exactly what was
// changed on top of lower. Unmounted when the test ends.
func overlay(t *testing.T, lower string) (merged, upper string) {
	t.Helper()
	base := t.TempDir()
	merged, upper, work := filepath.Join(base, "m"), filepath.Join(base, "u"), filepath.Join(base, "w")
	for _, d := range []string{merged, upper, work} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := syscall.Mount("overlay", merged, "overlay", 0, "lowerdir="+lower+",upperdir="+upper+",workdir="+work); err != nil {
		t.Fatalf("mount overlay on %s: %v", lower, err)
	}
	t.Cleanup(func() {
		if err := syscall.Unmount(merged, 0); err != nil {
			syscall.Unmount(merged, syscall.MNT_DETACH)
		}
	})
	return merged, upper
}

// unmount takes an overlay down before the test ends (a hundred overlays
// would otherwise stay mounted until then).
func unmount(t *testing.T, merged string) {
	t.Helper()
	if err := syscall.Unmount(merged, 0); err != nil {
		t.Fatalf("unmount %s: %v", merged, err)
	}
}

// changedPaths lists what an overlay's upper directory holds: every path the
// runs on it created, changed or removed (relative to the root).
func changedPaths(t *testing.T, upper string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(upper, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p != upper {
			rel, _ := filepath.Rel(upper, p)
			out = append(out, rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// fileState is one path's type, mode, owner and content (or "absent").
func fileState(dir, rel string) string {
	p := filepath.Join(dir, rel)
	fi, err := os.Lstat(p)
	if err != nil {
		return "absent"
	}
	st := fi.Sys().(*syscall.Stat_t)
	s := fmt.Sprintf("%v %d:%d", fi.Mode(), st.Uid, st.Gid)
	switch {
	case fi.Mode().IsRegular():
		data, err := os.ReadFile(p)
		if err != nil {
			return s + " unreadable: " + err.Error()
		}
		s += fmt.Sprintf(" %x", sha256.Sum256(data))
	case fi.Mode()&fs.ModeSymlink != 0:
		target, _ := os.Readlink(p)
		s += " -> " + target
	}
	return s
}

// crashCase is one real run whose every point is killed.
type crashCase struct {
	name string
	args []string // the hardbake command line, without --root and --json
	// lower is the root every point starts from, as overlayfs's lowerdir
	// option: one directory or "upper:lower" layers.
	lower string
	// before is a directory that shows lower (the original states).
	before string
	// midway: paths that may hold, right after a kill, something that is
	// neither their original nor their final state.
	midway func(rel string) bool
	// differs: paths whose final state differs between two complete runs
	// by nature (random host keys, times).
	differs func(rel string) bool
	// safe checks the root right after a kill.
	safe func(t *testing.T, dir string)
	// done checks the root after the rerun, given both runs' events (the
	// rerun is traced only when done needs its events).
	done      func(t *testing.T, dir string, killed, rerun tracedRun)
	traceRuns bool
}

// transient: hardbake's temp files (the rerun must remove them: checked
// against the uninterrupted run's tree) and /run, a tmpfs over the image's
// own at boot (sshd -t's privilege separation directory; a rerun finds one
// left there and leaves it, as it would the image's own).
func transient(rel string) bool {
	return isTemp(rel) || rel == "run" || strings.HasPrefix(rel, "run/")
}

var tempName = regexp.MustCompile(`\.hardbake-[0-9]+`)

// isTemp: a temp file of root.WriteFile, ".<name>.hardbake-<n>".
func isTemp(rel string) bool {
	return tempName.MatchString(filepath.Base(rel))
}

// randomNumber: the random part of temp names (".sshd_config.hardbake-N",
// "/run/hardbake-sshd-test-N") and process ids ("pid N").
var randomNumber = regexp.MustCompile(`-[0-9]{6,}|pid [0-9]+`)

// normalize makes an event comparable across runs: the overlay's directory,
// random names and process ids differ, the rest must not.
func normalize(ev ktEvent, dir string) string {
	s := ev.Kind + " " + strings.ReplaceAll(ev.Path, dir, "ROOT") + " " + strings.ReplaceAll(ev.To, dir, "ROOT")
	return randomNumber.ReplaceAllStringFunc(s, func(m string) string { return m[:len(m)-len(strings.TrimLeft(m, "-pid "))] + "N" })
}

func withRoot(args []string, dir string) []string {
	return append(append([]string{}, args...), "--root", dir, "--json")
}

var fingerprint = regexp.MustCompile(`SHA256:[A-Za-z0-9+/]{43}`)

// checkList lists a report's checks and what they found; host key
// fingerprints differ between two runs that each made their keys.
func checkList(rep report.Report) []string {
	var out []string
	for _, s := range rep.Steps {
		for _, c := range s.Checks {
			out = append(out, fingerprint.ReplaceAllString(fmt.Sprintf("%s ok=%v got=%q", c.ID, c.OK, c.Got), "SHA256:..."))
		}
	}
	return out
}

// reference is the uninterrupted run: its events are the points, its end
// state and checks what every crashed run must converge to.
type reference struct {
	dir    string
	events []string // normalized
	// checks are the run's, againChecks those of the run after it (which
	// has nothing left to do: a first boot that finds its marker checks
	// nothing); a rerun after a kill reports one of them.
	checks, againChecks []string
	changed             []string // paths the run changed
}

// run kills c's run at every point, each a parallel subtest.
func (c crashCase) run(t *testing.T) {
	refDir, refUpper := overlay(t, c.lower)
	first := traced(t, 0, withRoot(c.args, refDir)...)
	if first.code != 0 || first.res.Exit != 0 {
		t.Fatalf("uninterrupted run: exit %d\n%s\n%s", first.code, first.stdout, first.stderr)
	}
	again := hardbake(t, withRoot(c.args, refDir)...)
	if rep := again.report(t); again.code != 0 || rep.Changed != 0 {
		t.Fatalf("second uninterrupted run: exit %d, changed %d\n%s", again.code, rep.Changed, again.stdout)
	}
	ref := reference{dir: refDir, checks: checkList(first.report(t)), againChecks: checkList(again.report(t)), changed: changedPaths(t, refUpper)}
	for _, ev := range first.events {
		ref.events = append(ref.events, normalize(ev, refDir))
	}
	t.Logf("%d points; the uninterrupted run changed %d paths", len(ref.events), len(ref.changed))
	for n := 1; n <= len(ref.events); n++ {
		// The subtest's name: the point, and the file or command.
		what := strings.Fields(ref.events[n-1])
		name := fmt.Sprintf("%03d_%s_%s", n, what[0], filepath.Base(what[1]))
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			c.point(t, n, ref)
		})
	}
}

// point kills the run at event n on a fresh copy, checks the crashed root,
// reruns and checks that it converged.
func (c crashCase) point(t *testing.T, n int, ref reference) {
	dir, upper := overlay(t, c.lower)
	defer unmount(t, dir)
	t.Logf("killed at %d: %s", n, ref.events[n-1])

	killed := traced(t, n, withRoot(c.args, dir)...)
	if killed.res.KilledAt != n || killed.res.Exit != -int(syscall.SIGKILL) || len(killed.events) != n {
		t.Fatalf("not killed there: killtrace result %+v after %d events, exit %d\n%s", killed.res, len(killed.events), killed.code, killed.stderr)
	}
	for i, ev := range killed.events {
		got := normalize(ev, dir)
		if i == n-1 && ev.Kind == "start" {
			got = ref.events[i] // killed before the clone: no execve named the command
		}
		if got != ref.events[i] {
			t.Fatalf("the run went another way at event %d: %s; uninterrupted: %s", i+1, got, ref.events[i])
		}
	}
	if len(killed.res.Mounts) > 0 {
		t.Errorf("a real kill here leaves mounted (a rerun uses them as they are and never unmounts them): %v", killed.res.Mounts)
	}

	// The crashed root, as it is.
	c.safe(t, dir)
	for _, rel := range changedPaths(t, upper) {
		got := fileState(dir, rel)
		if got == fileState(c.before, rel) || got == fileState(ref.dir, rel) || transient(rel) || c.midway(rel) {
			continue
		}
		if fi, err := os.Lstat(filepath.Join(dir, rel)); err == nil && fi.IsDir() {
			continue // what is in it is checked path by path
		}
		t.Errorf("after the kill %s is neither the original nor the final one: %s", rel, got)
	}

	// The rerun finishes the job as an uninterrupted run does.
	var rerun tracedRun
	if c.traceRuns {
		rerun = traced(t, 0, withRoot(c.args, dir)...)
	} else {
		rerun.result = hardbake(t, withRoot(c.args, dir)...)
	}
	if rerun.code != 0 {
		t.Fatalf("rerun: exit %d\n%s\n%s", rerun.code, rerun.stdout, rerun.stderr)
	}
	if got := checkList(rerun.report(t)); !slices.Equal(got, ref.checks) && !slices.Equal(got, ref.againChecks) {
		t.Errorf("the rerun's checks differ from the uninterrupted run's:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(ref.checks, "\n"))
	}
	for _, rel := range append(changedPaths(t, upper), ref.changed...) {
		if strings.HasPrefix(rel, "run/") || c.differs(rel) {
			continue
		}
		if got, want := fileState(dir, rel), fileState(ref.dir, rel); got != want {
			t.Errorf("after the rerun %s is %s; after an uninterrupted run %s", rel, got, want)
		}
	}
	c.done(t, dir, killed, rerun)
	last := hardbake(t, withRoot(c.args, dir)...)
	if rep := last.report(t); last.code != 0 || rep.Changed != 0 {
		t.Errorf("the run after the rerun: exit %d, changed %d\n%s", last.code, rep.Changed, last.stdout)
	}
}

// probeKey is a host key for sshd -t and -T on a root that has none (a
// sealed one), made once.
var probeKey = sync.OnceValues(func() ([]byte, error) {
	dir, err := os.MkdirTemp("", "hardbake-probe-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	if out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", filepath.Join(dir, "k")).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("ssh-keygen: %v %s", err, out)
	}
	return os.ReadFile(filepath.Join(dir, "k"))
})

// probe runs fn on a throwaway overlay over dir that has /run/sshd and the
// probe key as /run/crash-probe-key, so asking sshd changes nothing in the
// root under test.
func probe(t *testing.T, dir string, fn func(p string)) {
	t.Helper()
	key, err := probeKey()
	if err != nil {
		t.Fatal(err)
	}
	p, _ := overlay(t, dir)
	defer unmount(t, p)
	if err := os.MkdirAll(filepath.Join(p, "run/sshd"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(p, "run/crash-probe-key"), key, 0o600); err != nil {
		t.Fatal(err)
	}
	fn(p)
}

// sshdSettings is the probe's `sshd -T`, for a connection of user when set.
func sshdSettings(p, user string) (map[string]string, error) {
	args := []string{p, "/usr/sbin/sshd", "-T", "-h", "/run/crash-probe-key"}
	if user != "" {
		args = append(args, "-C", "user="+user+",host=client.example,addr=192.0.2.1")
	}
	out, err := exec.Command("chroot", args...).CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("sshd -T: %v\n%s", err, out)
	}
	m := map[string]string{}
	for _, l := range strings.Split(string(out), "\n") {
		if k, v, ok := strings.Cut(l, " "); ok {
			m[k] = v
		}
	}
	return m, nil
}

// sshdConfigFiles is the state of every file sshd reads its configuration
// from (sshd_config and the sshd_config.d drop-ins).
func sshdConfigFiles(dir string) string {
	var b strings.Builder
	b.WriteString("sshd_config " + fileState(dir, "etc/ssh/sshd_config") + "\n")
	ents, _ := os.ReadDir(filepath.Join(dir, "etc/ssh/sshd_config.d"))
	for _, e := range ents {
		b.WriteString(e.Name() + " " + fileState(dir, "etc/ssh/sshd_config.d/"+e.Name()) + "\n")
	}
	return b.String()
}

// sshdSafe: sshd -t passes, and either the hardened values hold (for
// everyone and for the user "backup" of hostile()'s Match block) or sshd's
// configuration files are the original ones, byte for byte.
func sshdSafe(original string) func(t *testing.T, dir string) {
	return func(t *testing.T, dir string) {
		t.Helper()
		for _, p := range sshdProblems(t, dir, original) {
			t.Error("after the kill " + p)
		}
	}
}

// sshdProblems says what is unsafe about dir's sshd configuration.
func sshdProblems(t *testing.T, dir, original string) []string {
	t.Helper()
	var problems []string
	probe(t, dir, func(p string) {
		if out, err := exec.Command("chroot", p, "/usr/sbin/sshd", "-t", "-h", "/run/crash-probe-key").CombinedOutput(); err != nil {
			problems = append(problems, fmt.Sprintf("sshd -t fails: %v\n%s", err, out))
			return
		}
		if sshdConfigFiles(dir) == original {
			return
		}
		for _, user := range []string{"", "backup"} {
			m, err := sshdSettings(p, user)
			if err != nil {
				problems = append(problems, err.Error())
				return
			}
			for _, k := range []string{"permitrootlogin", "passwordauthentication", "kbdinteractiveauthentication"} {
				if m[k] != "no" {
					problems = append(problems, fmt.Sprintf("sshd's configuration is neither the original nor hardened: %s %s (user %q):\n%s", k, m[k], user, sshdConfigFiles(dir)))
				}
			}
		}
	})
	return problems
}

func nothingMore(*testing.T, string, tracedRun, tracedRun) {}

func none(string) bool { return false }

// TestCrash kills `hardbake bake` and `hardbake firstboot` at every point
// on a hostile Debian 12 root (hostile(): root login and passwords on, a
// Match block turning passwords back on for one user).
func TestCrash(t *testing.T) {
	requireRoot(t)
	pristine := testroot.Debian(t, "bookworm")
	hostile(t, pristine)
	original := sshdConfigFiles(pristine)
	safe := sshdSafe(original)

	// The judge can fail: a drop-in that turns passwords off, written
	// without the main file's change, leaves root login on (hostile()'s
	// line comes before the Include), and the Match user's passwords.
	t.Run("sshd_judge_sees_a_mix", func(t *testing.T) {
		dir, _ := overlay(t, pristine)
		writeFile(t, filepath.Join(dir, "etc/ssh/sshd_config.d/00-hardbake.conf"), "PermitRootLogin no\nPasswordAuthentication no\nKbdInteractiveAuthentication no\n")
		problems := strings.Join(sshdProblems(t, dir, original), "\n")
		if !strings.Contains(problems, "permitrootlogin yes (user \"\")") || !strings.Contains(problems, "passwordauthentication yes (user \"backup\")") {
			t.Errorf("the judge missed the mix:\n%s", problems)
		}
		if p := sshdProblems(t, pristine, original); len(p) > 0 {
			t.Errorf("the judge refuses the original configuration: %q", p)
		}
	})

	t.Run("bake_ssh_firstboot_seal", crashCase{
		args:  []string{"bake", "--seal", "--only", "ssh,firstboot,seal"},
		lower: pristine, before: pristine,
		midway: none, differs: none, safe: safe, done: nothingMore,
	}.run)

	t.Run("bake_services", crashCase{
		args:  []string{"bake", "--only", "services"},
		lower: pristine, before: pristine,
		midway: func(rel string) bool {
			// policy-rc.d is there for the duration of the purge (the
			// rerun must remove it); apt's and dpkg's logs and caches.
			return rel == "usr/sbin/policy-rc.d" || strings.HasPrefix(rel, "var/log/") || strings.HasPrefix(rel, "var/cache/")
		},
		differs: func(rel string) bool {
			return strings.HasPrefix(rel, "var/log/") || strings.HasPrefix(rel, "var/cache/") // times in logs, rebuilt caches
		},
		safe: safe, done: nothingMore,
	}.run)

	t.Run("firstboot", func(t *testing.T) { crashFirstboot(t, pristine) })
}

// crashFirstboot kills `hardbake firstboot` at every point, on the root
// baked with ssh and firstboot and sealed of its host keys, with
// firstboot_integration_test.go's host data where cloud-init's write_files
// leaves it (host.File). After a kill sudo still works for
// everyone (visudo -c) and no sudo rule names a user that does not exist;
// after the rerun the user exists with its key, sshd -t passes with the host
// keys first boot made, and the marker was written exactly once, as the
// last change of the run that wrote it.
func crashFirstboot(t *testing.T, pristine string) {
	bakedDir, bakedUpper := overlay(t, pristine)
	if r := hardbake(t, "bake", "--only", "ssh,firstboot", "--root", bakedDir); r.code != 0 {
		t.Fatalf("bake: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	keys, _ := filepath.Glob(filepath.Join(bakedDir, "etc/ssh/ssh_host_*"))
	for _, k := range keys {
		os.Remove(k)
	}
	hostData := strings.TrimPrefix(host.File, "/")
	writeSecret(t, filepath.Join(bakedDir, hostData), hostYAML)
	original := sshdConfigFiles(bakedDir)
	// The baked layer becomes a lower layer of each copy: overlayfs stacks
	// two deep, and the probes add one.
	unmount(t, bakedDir)
	lower := bakedUpper + ":" + pristine
	before, _ := overlay(t, lower)

	hostKey := func(rel string) bool { return strings.HasPrefix(rel, "etc/ssh/ssh_host_") }
	marker := strings.TrimPrefix(firstboot.Marker, "/")
	sshSafe := sshdSafe(original)
	crashCase{
		args:  []string{"firstboot"},
		lower: lower, before: before, traceRuns: true,
		// Host keys are random and the marker holds the time: a killed
		// run's are not the uninterrupted run's.
		midway:  func(rel string) bool { return hostKey(rel) || rel == marker },
		differs: func(rel string) bool { return hostKey(rel) || rel == marker },
		safe: func(t *testing.T, dir string) {
			t.Helper()
			sshSafe(t, dir)
			if out, err := exec.Command("chroot", dir, "visudo", "-c").CombinedOutput(); err != nil {
				t.Errorf("visudo -c after the kill: %v\n%s", err, out)
			}
			rules, _ := filepath.Glob(filepath.Join(dir, "etc/sudoers.d/*alice*"))
			if len(rules) > 0 && exec.Command("chroot", dir, "getent", "passwd", "alice").Run() != nil {
				t.Errorf("after the kill %v grants sudo to alice, who does not exist", rules)
			}
		},
		done: func(t *testing.T, dir string, killed, rerun tracedRun) {
			t.Helper()
			if out, err := exec.Command("chroot", dir, "getent", "passwd", "alice").CombinedOutput(); err != nil {
				t.Errorf("no user alice after the rerun: %v %s", err, out)
			}
			if ak, _ := os.ReadFile(filepath.Join(dir, "home/alice/.ssh/authorized_keys")); !strings.Contains(string(ak), aliceKey+"\n") {
				t.Errorf("authorized_keys after the rerun:\n%s", ak)
			}
			if out, err := exec.Command("chroot", dir, "visudo", "-c").CombinedOutput(); err != nil {
				t.Errorf("visudo -c after the rerun: %v\n%s", err, out)
			}
			if err := os.MkdirAll(filepath.Join(dir, "run/sshd"), 0o755); err != nil {
				t.Fatal(err)
			}
			if out, err := exec.Command("chroot", dir, "/usr/sbin/sshd", "-t").CombinedOutput(); err != nil {
				t.Errorf("sshd -t with the host keys first boot made: %v\n%s", err, out)
			}
			// The marker: written once, by the killed run or the
			// rerun, and nothing in the root changed after it but
			// the removal of the host data it records as consumed.
			writes := 0
			for _, run := range []tracedRun{killed, rerun} {
				wrote := false
				for _, ev := range run.happened() {
					switch {
					case ev.Kind == "rename" && strings.HasSuffix(ev.To, "/"+marker):
						writes++
						wrote = true
					case ev.Kind == "remove" && strings.HasSuffix(ev.Path, "/"+hostData):
					case wrote && ev.Kind != "start" && ev.Kind != "end":
						t.Errorf("after the marker the run still changed the root: %s", normalize(ev, dir))
					}
				}
			}
			if writes != 1 {
				t.Errorf("the marker was written %d times by the killed run and the rerun", writes)
			}
		},
	}.run(t)
}
