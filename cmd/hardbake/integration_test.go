package main

// Black-box tests of the real binary against real Debian roots built with
// mmdebstrap, with the target's own OpenSSH judging the result through chroot.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/hardbake/hardbake/bootstrap/report"
	"github.com/hardbake/hardbake/internal/testroot"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// TestMain removes the binary hardbakeBin built (a temporary directory per
// test run, which would otherwise pile up in TMPDIR).
func TestMain(m *testing.M) {
	code := m.Run()
	if binPath != "" {
		os.RemoveAll(filepath.Dir(binPath))
	}
	os.Exit(code)
}

// hardbakeBin builds the static binary once per test run.
func hardbakeBin(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "hardbake-bin-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "hardbake")
		// Built as the Makefile builds the shipped binary (static, stripped).
		cmd := exec.Command("go", "build", "-trimpath", "-ldflags", "-s -w -X main.version=test", "-o", binPath, ".")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

type result struct {
	code           int
	stdout, stderr string
}

func hardbake(t *testing.T, args ...string) result {
	t.Helper()
	return runResult(t, exec.Command(hardbakeBin(t), args...))
}

// runResult runs cmd and returns its exit code and output; only a failure
// to start it fails the test.
func runResult(t *testing.T, cmd *exec.Cmd) result {
	t.Helper()
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return result{code, o.String(), e.String()}
}

func (r result) report(t *testing.T) report.Report {
	t.Helper()
	var rep report.Report
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("not a JSON report: %v\nstdout:\n%s\nstderr:\n%s", err, r.stdout, r.stderr)
	}
	return rep
}

// sshdT asks the root's own sshd for its effective configuration.
func sshdT(t *testing.T, rootDir string) map[string][]string {
	t.Helper()
	os.MkdirAll(filepath.Join(rootDir, "run/sshd"), 0o755)
	out, err := exec.Command("chroot", rootDir, "/usr/sbin/sshd", "-T").CombinedOutput()
	if err != nil {
		t.Fatalf("sshd -T: %v\n%s", err, out)
	}
	m := map[string][]string{}
	for _, l := range strings.Split(string(out), "\n") {
		if k, v, ok := strings.Cut(l, " "); ok {
			m[k] = append(m[k], v)
		}
	}
	return m
}

func wantSSHD(t *testing.T, got map[string][]string, want map[string]string) {
	t.Helper()
	for k, v := range want {
		if strings.Join(got[k], " ") != v {
			t.Errorf("sshd -T: %s = %q, want %q", k, strings.Join(got[k], " "), v)
		}
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// hostile puts the starting configurations real images arrive with: cloud-init's
// drop-in turning passwords on, root login allowed in the main file *before*
// the Include (so a drop-in alone cannot win), a custom port, and a trailing
// Match block that re-enables passwords for one user.
func hostile(t *testing.T, dir string) {
	t.Helper()
	main := filepath.Join(dir, "etc/ssh/sshd_config")
	data, err := os.ReadFile(main)
	if err != nil {
		t.Fatal(err)
	}
	text := "# admin was here\nPermitRootLogin yes\nPort 2222\n" + string(data) +
		"\nMatch User backup\n    PasswordAuthentication yes\n"
	writeFile(t, main, text)
	writeFile(t, filepath.Join(dir, "etc/ssh/sshd_config.d/50-cloud-init.conf"), "PasswordAuthentication yes\n")
}

func TestBakeDebianRoots(t *testing.T) {
	if testing.Short() {
		t.Skip("real mmdebstrap roots: not in -short")
	}
	for _, suite := range []string{"bookworm", "trixie"} {
		t.Run(suite, func(t *testing.T) {
			dir := testroot.Debian(t, suite)
			hostile(t, dir)
			before := testroot.Digest(t, dir, "/proc", "/sys", "/dev")

			// Bad input: exit 2, a precise message, the root untouched.
			badProfile := filepath.Join(t.TempDir(), "bad.yaml")
			writeFile(t, badProfile, "ssh:\n  address_family: ipv4\n  ports: [70000]\n")
			r := hardbake(t, "bake", "--only", "ssh", "--root", dir, "--profile", badProfile)
			if r.code != 2 || !strings.Contains(r.stderr, `ssh.address_family (line 2): "ipv4" is not one of any, inet, inet6`) ||
				!strings.Contains(r.stderr, "ssh.ports[0] (line 3): 70000 is out of range 1-65535") {
				t.Fatalf("bad profile: exit %d\n%s", r.code, r.stderr)
			}
			if r := hardbake(t, "bake", "--root", dir, "--only", "sshd"); r.code != 2 || !strings.Contains(r.stderr, `unknown step "sshd"`) {
				t.Fatalf("unknown step: exit %d\n%s", r.code, r.stderr)
			}
			testroot.AssertSame(t, before, testroot.Digest(t, dir, "/proc", "/sys", "/dev"))

			// Audit of the unhardened root fails and says why.
			r = hardbake(t, "audit", "--only", "ssh", "--root", dir, "--json")
			if r.code != 1 {
				t.Fatalf("audit of an unhardened root: exit %d\n%s", r.code, r.stderr)
			}
			if rep := r.report(t); rep.OK || !strings.Contains(r.stdout, `"id": "ssh.permitrootlogin"`) {
				t.Fatalf("audit report: %s", r.stdout)
			} else if c := findCheck(t, rep, "ssh.host_keys"); c.OK || !strings.Contains(c.Got, "ecdsa is not in ssh.host_key_types") {
				// Debian's postinst made rsa, ecdsa and ed25519 keys and
				// sshd loads all three by default.
				t.Errorf("unhardened root: ssh.host_keys = %+v", c)
			}

			// Plan shows the diff and changes nothing.
			r = hardbake(t, "plan", "--only", "ssh", "--root", dir)
			if r.code != 0 || !strings.Contains(r.stdout, "+PasswordAuthentication no") || !strings.Contains(r.stdout, "sshd -T") {
				t.Fatalf("plan: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
			}
			testroot.AssertSame(t, before, testroot.Digest(t, dir, "/proc", "/sys", "/dev"))

			// Bake: the root's own sshd must report the hardened values.
			r = hardbake(t, "bake", "--only", "ssh", "--root", dir, "--json")
			if r.code != 0 {
				t.Fatalf("bake: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
			}
			if rep := r.report(t); rep.Changed == 0 || !rep.OK || rep.Version != "test" {
				t.Fatalf("bake report: %s", r.stdout)
			}
			wantSSHD(t, sshdT(t, dir), map[string]string{
				"permitrootlogin": "no", "passwordauthentication": "no", "kbdinteractiveauthentication": "no",
				"pubkeyauthentication": "yes", "addressfamily": "any", "port": "2222",
			})
			cfg, _ := os.ReadFile(filepath.Join(dir, "etc/ssh/sshd_config"))
			if !strings.Contains(string(cfg), "# admin was here") || !strings.Contains(string(cfg), "#hardbake-disabled#     PasswordAuthentication yes") {
				t.Errorf("sshd_config lost the admin's lines or kept the Match override:\n%s", cfg)
			}
			if ci, _ := os.ReadFile(filepath.Join(dir, "etc/cloud/cloud.cfg.d/99-hardbake-ssh.cfg")); !strings.Contains(string(ci), "ssh_pwauth: false") {
				t.Errorf("cloud-init not told to keep passwords off: %q", ci)
			}
			// No temporary host key or /run/sshd left behind by sshd -t.
			if m, _ := filepath.Glob(filepath.Join(dir, "run/hardbake-*")); len(m) > 0 {
				t.Errorf("left behind: %v", m)
			}

			// Idempotent: a second bake changes nothing, audit passes.
			r = hardbake(t, "bake", "--only", "ssh", "--root", dir, "--json")
			if rep := r.report(t); r.code != 0 || rep.Changed != 0 {
				t.Fatalf("second bake: exit %d changed %d\n%s", r.code, rep.Changed, r.stdout)
			}
			if r := hardbake(t, "audit", "--only", "ssh", "--root", dir); r.code != 0 {
				t.Fatalf("audit after bake: exit %d\n%s%s", r.code, r.stdout, r.stderr)
			}
			wantBenchmarkRefs(t, hardbake(t, "audit", "--only", "ssh", "--root", dir, "--json").report(t))

			// A new profile: ports and family replace the old ones.
			prof := filepath.Join(t.TempDir(), "p.yaml")
			writeFile(t, prof, "ssh:\n  address_family: inet\n  ports: [2200]\n")
			if r := hardbake(t, "bake", "--only", "ssh", "--root", dir, "--profile", prof); r.code != 0 {
				t.Fatalf("bake with ports: exit %d\n%s%s", r.code, r.stdout, r.stderr)
			}
			wantSSHD(t, sshdT(t, dir), map[string]string{"addressfamily": "inet", "port": "2200", "passwordauthentication": "no"})
			// Back to the defaults: the admin's Port 2222 comes back.
			if r := hardbake(t, "bake", "--only", "ssh", "--root", dir); r.code != 0 {
				t.Fatalf("bake back: exit %d\n%s%s", r.code, r.stdout, r.stderr)
			}
			wantSSHD(t, sshdT(t, dir), map[string]string{"addressfamily": "any", "port": "2222"})

			// sshd -t rejects the result: files restored, exit 1, sshd's message shown.
			writeFile(t, filepath.Join(dir, "etc/ssh/sshd_config.d/90-broken.conf"), "NoSuchOption yes\n")
			writeFile(t, prof, "ssh:\n  address_family: inet6\n")
			before = testroot.Digest(t, dir, "/proc", "/sys", "/dev")
			r = hardbake(t, "bake", "--only", "ssh", "--root", dir, "--profile", prof)
			if r.code != 1 || !strings.Contains(r.stderr, "NoSuchOption") || !strings.Contains(r.stderr, "previous files restored") {
				t.Fatalf("broken config: exit %d\n%s%s", r.code, r.stdout, r.stderr)
			}
			testroot.AssertSame(t, before, testroot.Digest(t, dir, "/proc", "/sys", "/dev"))
		})
	}
}

func TestUnsupportedDistro(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "etc/os-release"), "ID=gentoo\nNAME=Gentoo\n")
	r := hardbake(t, "bake", "--only", "ssh", "--root", dir)
	if r.code != 2 || !strings.Contains(r.stderr, `ID="gentoo"`) || !strings.Contains(r.stderr, "supported IDs: ") {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	if r := hardbake(t, "bake", "--root", filepath.Join(dir, "missing")); r.code != 2 {
		t.Fatalf("missing root: exit %d %s", r.code, r.stderr)
	}
	if r := hardbake(t, "frobnicate"); r.code != 2 || !strings.Contains(r.stderr, "unknown command") {
		t.Fatalf("unknown command: exit %d %s", r.code, r.stderr)
	}
}

func TestProfileAndVersion(t *testing.T) {
	r := hardbake(t, "profile")
	if r.code != 0 || !strings.Contains(r.stdout, "address_family: any") || !strings.Contains(r.stdout, "# ") {
		t.Fatalf("profile: %d %s", r.code, r.stdout)
	}
	// The printed profile is itself a valid profile.
	f := filepath.Join(t.TempDir(), "p.yaml")
	writeFile(t, f, r.stdout)
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "etc/os-release"), "ID=debian\nVERSION_ID=12\n")
	writeFile(t, filepath.Join(dir, "etc/ssh/sshd_config"), "Include /etc/ssh/sshd_config.d/*.conf\n")
	if r := hardbake(t, "plan", "--only", "ssh", "--root", dir, "--profile", f); r.code != 0 {
		t.Fatalf("plan with printed profile: %d %s%s", r.code, r.stdout, r.stderr)
	}
	if r := hardbake(t, "version"); r.code != 0 || r.stdout != "hardbake test\n" {
		t.Fatalf("version: %q", r.stdout)
	}
}

// findCheck returns the check with id from rep (fatal when absent).
func findCheck(t *testing.T, rep report.Report, id string) report.Check {
	t.Helper()
	for _, st := range rep.Steps {
		for _, c := range st.Checks {
			if c.ID == id {
				return c
			}
		}
	}
	t.Fatalf("no check %s in the report", id)
	return report.Check{}
}

// wantBenchmarkRefs: the JSON audit of a hardened root maps its checks to
// dev-sec ssh-baseline controls and Lynis SSH-7408 options, and the ssh step
// lists its deliberate deviations, each with refs and a reason.
func wantBenchmarkRefs(t *testing.T, rep report.Report) {
	t.Helper()
	for id, refs := range map[string][]string{
		"ssh.permitrootlogin":              {"dev-sec:sshd-06", "lynis:SSH-7408:PermitRootLogin", "ssg:sshd_disable_root_login"},
		"ssh.passwordauthentication":       {"dev-sec:sshd-27"},
		"ssh.kbdinteractiveauthentication": {"dev-sec:sshd-29"},
		"ssh.kexalgorithms":                {"dev-sec:sshd-02", "ssg:sshd_use_strong_kex"},
		"ssh.host_keys":                    {"dev-sec:sshd-14"},
		"ssh.allowgroups":                  {"ssg:sshd_limit_user_access"},
		"ssh.sshd_config_mode":             {"ssg:file_permissions_sshd_config"},
	} {
		c := findCheck(t, rep, id)
		if !c.OK || !slices.Equal(c.Refs, refs) {
			t.Errorf("%s: ok=%v refs=%q, want ok and refs %q", id, c.OK, c.Refs, refs)
		}
	}
	if c := findCheck(t, rep, "ssh.host_keys"); !strings.Contains(c.Detail, "loaded: ed25519") || strings.Contains(c.Detail, "ecdsa") {
		t.Errorf("hardened root: ssh.host_keys detail %q, want only the ed25519 key loaded", c.Detail)
	}
	var devs []report.Deviation
	for _, st := range rep.Steps {
		if st.Name == "ssh" {
			devs = st.Deviations
		}
	}
	port := false
	for _, d := range devs {
		if len(d.Refs) == 0 || len(d.Reason) < 20 {
			t.Errorf("deviation without refs or reason: %+v", d)
		}
		port = port || slices.Contains(d.Refs, "lynis:SSH-7408:Port")
	}
	if len(devs) < 3 || !port {
		t.Errorf("ssh deviations %+v: want at least 3, one for lynis:SSH-7408:Port", devs)
	}
}
