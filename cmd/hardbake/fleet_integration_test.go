package main

// The fleet proof: a real audit of a baked Debian root as Prometheus metrics
// (judged by promtool, served by Debian's own node_exporter, turned to 0 by
// a drift) and as JUnit XML (judged by two JUnit schemas), and the audit
// service's sandbox emulated with the mounts systemd would make.

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hardbake/hardbake/internal/testroot"
)

func TestFleetMetrics(t *testing.T) {
	requireRoot(t)
	for _, tool := range []string{"promtool", "prometheus-node-exporter", "xmllint", "unshare"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s missing (make deps)", tool)
		}
	}
	dir := testroot.Debian(t, "bookworm")
	prof := filepath.Join(t.TempDir(), "p.yaml")
	// The baked profile (which the service audits against) skips fail2ban:
	// live, its check waits 45 s for a fail2ban server, which this root,
	// baked without that step, does not run.
	writeFile(t, prof, "skip: [fail2ban]\nmonitoring:\n  audit_timer: true\n")
	if r := hardbake(t, "bake", "--root", dir, "--only", "ssh,firstboot,monitoring", "--profile", prof); r.code != 0 {
		t.Fatalf("bake: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	textDir := filepath.Join(dir, "var/lib/prometheus/node-exporter") // made by the monitoring step
	promFile := filepath.Join(textDir, "hardbake.prom")

	// Bad flags: exit 2, the flag and its allowed values named, nothing written.
	r := hardbake(t, "audit", "--root", dir, "--format", "xml", "-o", promFile)
	if r.code != 2 || !strings.Contains(r.stderr, `--format: "xml" is not one of text, json, prometheus, junit`) {
		t.Fatalf("--format xml: exit %d\n%s", r.code, r.stderr)
	}
	if r := hardbake(t, "audit", "--root", dir, "--format", "prometheus", "-o", filepath.Join(dir, "nonexistent/x.prom")); r.code != 2 || !strings.Contains(r.stderr, "-o ") {
		t.Fatalf("-o into a missing directory: exit %d\n%s", r.code, r.stderr)
	}
	if _, err := os.Stat(promFile); err == nil {
		t.Fatal("a refused audit wrote the metrics file")
	}

	// Every step, as the service runs it (the baked root fails the steps
	// it was not baked with: those failures are metrics too).
	audit := func() {
		t.Helper()
		r := hardbake(t, "audit", "--root", dir, "--profile", prof, "--format", "prometheus", "-o", promFile)
		if r.code != 0 && r.code != 1 {
			t.Fatalf("audit: exit %d\n%s%s", r.code, r.stdout, r.stderr)
		}
	}
	audit()
	if fi, err := os.Stat(promFile); err != nil || fi.Mode().Perm() != 0o644 {
		t.Fatalf("metrics file: %v %v", fi, err)
	}
	promtoolAccepts(t, promFile)
	if m, _ := filepath.Glob(filepath.Join(textDir, ".*")); len(m) > 0 {
		t.Errorf("temporary files left beside the metrics: %v", m)
	}

	addr := startNodeExporter(t, textDir)
	okLine := `hardbake_check_ok{check="ssh.permitrootlogin",severity="fail",step="ssh"} `
	before := scrape(t, addr)
	if !strings.Contains(before, okLine+"1\n") || !strings.Contains(before, "node_textfile_scrape_error 0\n") {
		t.Fatalf("node_exporter does not serve the baked state:\n%s", before)
	}
	failedBefore := metricValue(t, before, "hardbake_checks_failed")

	// Drift: a line above hardbake's managed block (which wins over every
	// drop-in) lets root log in.
	baked, _ := os.ReadFile(filepath.Join(dir, "etc/ssh/sshd_config"))
	writeFile(t, filepath.Join(dir, "etc/ssh/sshd_config"), "PermitRootLogin yes\n"+string(baked))
	audit()
	after := scrape(t, addr)
	if !strings.Contains(after, okLine+"0\n") {
		t.Errorf("drift not visible: want %s0 in\n%s", okLine, grepLines(after, "hardbake_check_ok{check=\"ssh."))
	}
	if failedAfter := metricValue(t, after, "hardbake_checks_failed"); failedAfter <= failedBefore {
		t.Errorf("hardbake_checks_failed %v after the drift, %v before", failedAfter, failedBefore)
	}
	if metricValue(t, after, "hardbake_audit_ok") != 0 || !regexp.MustCompile(`(?m)^hardbake_info\{commit="[^"]*",distro="debian",distro_version="12",version="test"\} 1$`).MatchString(after) {
		t.Errorf("audit_ok/info:\n%s", grepLines(after, "hardbake_audit_ok", "hardbake_info"))
	}
	writeFile(t, filepath.Join(dir, "etc/ssh/sshd_config"), string(baked))

	t.Run("junit", func(t *testing.T) {
		out := filepath.Join(t.TempDir(), "audit.xml")
		r := hardbake(t, "audit", "--root", dir, "--profile", prof, "--format", "junit", "-o", out)
		if r.code != 0 && r.code != 1 {
			t.Fatalf("audit: exit %d\n%s", r.code, r.stderr)
		}
		doc, _ := os.ReadFile(out)
		if !strings.Contains(string(doc), `<testcase name="ssh.permitrootlogin" classname="ssh" time="0"></testcase>`) {
			t.Errorf("no passing ssh.permitrootlogin testcase:\n%s", doc)
		}
		for _, xsd := range []string{"ant-junit.xsd", "jenkins-junit-10.xsd"} {
			schema := filepath.Join("..", "..", "bootstrap", "report", "testdata", "junit", xsd)
			if out, err := exec.Command("xmllint", "--noout", "--schema", schema, out).CombinedOutput(); err != nil {
				t.Errorf("xmllint --schema %s: %v\n%s", xsd, err, out)
			}
		}
	})

	t.Run("service sandbox", func(t *testing.T) { serviceSandbox(t, dir) })
}

// serviceSandbox runs the installed hardbake-audit.service's ExecStart in the
// root as the live system, under the file system systemd gives the unit:
// everything read-only (ProtectSystem=strict), the unit's ReadWritePaths
// writable, /home read-only. There is no systemd to boot here; the mount
// namespace reproduces what those settings do to the files audit reads and
// writes. Without the ReadWritePaths the run must be refused (exit 2).
func serviceSandbox(t *testing.T, dir string) {
	unit, err := os.ReadFile(filepath.Join(dir, "etc/systemd/system/hardbake-audit.service"))
	if err != nil {
		t.Fatal(err)
	}
	execStart := unitValue(t, string(unit), "ExecStart")
	writable := strings.Fields(unitValue(t, string(unit), "ReadWritePaths"))
	if unitValue(t, string(unit), "ProtectSystem") != "strict" {
		t.Fatal("the unit is not ProtectSystem=strict: this emulation no longer matches it")
	}
	run := func(rw []string) result {
		// The root as the booted machine has it (proc, a tmpfs /run), then
		// read-only, then the unit's writable paths bound back read-write.
		script := `set -e
R=$1; shift
mount --bind "$R" "$R"
mount -t proc proc "$R/proc"
mount -t tmpfs tmpfs "$R/run"
mount -o remount,bind,ro "$R"
mount -o remount,bind,ro "$R/run"
for p in "$@"; do mount --bind "$R$p" "$R$p"; mount -o remount,bind,rw "$R$p"; done
exec chroot "$R" ` + execStart
		return runResult(t, exec.Command("unshare", append([]string{"-m", "--propagation", "private", "sh", "-c", script, "sh", dir}, rw...)...))
	}
	promFile := filepath.Join(dir, "var/lib/prometheus/node-exporter/hardbake.prom")
	os.Remove(promFile)

	r := run(nil)
	if r.code != 2 || !strings.Contains(r.stderr, "read-only file system") {
		t.Fatalf("without ReadWritePaths: exit %d\n%s", r.code, r.stderr)
	}
	if _, err := os.Stat(promFile); err == nil {
		t.Fatal("metrics written through a read-only root")
	}

	r = run(writable)
	if r.code != 0 && r.code != 1 {
		t.Fatalf("sandboxed audit: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	promtoolAccepts(t, promFile)
	data, _ := os.ReadFile(promFile)
	// sshd -T ran (it needs /run/sshd, which audit made in the writable
	// /run) and judged the baked settings.
	for _, want := range []string{`hardbake_step_error{step="ssh"} 0`, `hardbake_check_ok{step="ssh",check="ssh.permitrootlogin",severity="fail"} 1`} {
		if !strings.Contains(string(data), want+"\n") {
			t.Errorf("sandboxed audit: no %s in\n%s\nstdout:\n%s", want, data, r.stdout)
		}
	}
}

// unitValue is the value of the first key= line of a unit file.
func unitValue(t *testing.T, unit, key string) string {
	t.Helper()
	for _, line := range strings.Split(unit, "\n") {
		if v, ok := strings.CutPrefix(line, key+"="); ok {
			return v
		}
	}
	t.Fatalf("unit has no %s=:\n%s", key, unit)
	return ""
}

func promtoolAccepts(t *testing.T, file string) {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("promtool", "check", "metrics")
	cmd.Stdin = bytes.NewReader(data)
	if out, err := cmd.CombinedOutput(); err != nil || len(bytes.TrimSpace(out)) > 0 {
		t.Fatalf("promtool check metrics: %v\n%s", err, out)
	}
}

// startNodeExporter runs Debian's node_exporter on a free loopback port with
// only the textfile collector, reading dir, and returns its address.
func startNodeExporter(t *testing.T, dir string) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	var log bytes.Buffer
	cmd := exec.Command("prometheus-node-exporter", "--web.listen-address="+addr,
		"--collector.disable-defaults", "--collector.textfile", "--collector.textfile.directory="+dir)
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	for range 100 { // until it listens: at most 10 s
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return addr
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("node_exporter did not listen on %s:\n%s", addr, log.String())
	return ""
}

func scrape(t *testing.T, addr string) string {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET /metrics: %d %v", resp.StatusCode, err)
	}
	return string(body)
}

func metricValue(t *testing.T, exposition, name string) float64 {
	t.Helper()
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(name) + ` (\S+)$`).FindStringSubmatch(exposition)
	if m == nil {
		t.Fatalf("no %s in\n%s", name, exposition)
	}
	v, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func grepLines(text string, prefixes ...string) string {
	var out []string
	for _, line := range strings.Split(text, "\n") {
		for _, p := range prefixes {
			if strings.HasPrefix(line, p) {
				out = append(out, line)
			}
		}
	}
	return fmt.Sprint(strings.Join(out, "\n"))
}

// TestAuditServiceBooted boots a baked Debian root with its own systemd
// (systemd-nspawn, no VM) and has systemd itself start
// hardbake-audit.service with the unit's whole sandbox: the audit fails
// checks (the root is baked with three steps only), exits 1, and the unit
// still ends in success with the metrics written; the timer is scheduled.
func TestAuditServiceBooted(t *testing.T) {
	requireRoot(t)
	for _, tool := range []string{"systemd-nspawn", "promtool"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s missing (make deps)", tool)
		}
	}
	// Debian 12's systemd 252 and Debian 13's 257.
	for _, suite := range []string{"bookworm", "trixie"} {
		t.Run(suite, func(t *testing.T) { auditServiceBooted(t, suite) })
	}
}

func auditServiceBooted(t *testing.T, suite string) {
	dir := testroot.Debian(t, suite)
	prof := filepath.Join(t.TempDir(), "p.yaml")
	// The baked profile (which the service audits against) skips fail2ban:
	// live, its check waits 45 s for a fail2ban server, which this root,
	// baked without that step, does not run.
	writeFile(t, prof, "skip: [fail2ban]\nmonitoring:\n  audit_timer: true\n")
	if r := hardbake(t, "bake", "--root", dir, "--only", "ssh,firstboot,monitoring", "--profile", prof); r.code != 0 {
		t.Fatalf("bake: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	// A probe that runs once the machine is up, records what systemd says
	// of the audit service and the timer, and powers the machine off.
	writeFile(t, filepath.Join(dir, "etc/systemd/system/fleet-probe.service"), `[Unit]
After=multi-user.target
[Service]
Type=oneshot
ExecStart=/bin/sh -c 'systemctl start hardbake-audit.service; systemctl show -p Result -p ExecMainStatus -p ActiveState hardbake-audit.service > /root/probe.txt; systemctl show -p ActiveState -p NextElapseUSecMonotonic hardbake-audit.timer >> /root/probe.txt'
ExecStartPost=/bin/systemctl poweroff
[Install]
WantedBy=multi-user.target
`)
	if err := os.Symlink("/etc/systemd/system/fleet-probe.service", filepath.Join(dir, "etc/systemd/system/multi-user.target.wants/fleet-probe.service")); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	// --register=no --keep-unit: no systemd (machined) on the host side.
	out, err := exec.CommandContext(ctx, "systemd-nspawn", "--register=no", "--keep-unit", "-q", "-D", dir, "-b").CombinedOutput()
	probe, _ := os.ReadFile(filepath.Join(dir, "root/probe.txt"))
	if err != nil || len(probe) == 0 {
		t.Fatalf("booting the root: %v\nprobe: %s\nconsole (tail):\n%s", err, probe, tail(string(out), 40))
	}
	for _, want := range []string{"Result=success\n", "ExecMainStatus=1\n", "ActiveState=inactive\n", "ActiveState=active\n"} {
		if !strings.Contains(string(probe), want) {
			t.Errorf("probe lacks %q:\n%s", want, probe)
		}
	}
	if strings.Contains(string(probe), "NextElapseUSecMonotonic=infinity") {
		t.Errorf("timer not scheduled:\n%s", probe)
	}
	promFile := filepath.Join(dir, "var/lib/prometheus/node-exporter/hardbake.prom")
	promtoolAccepts(t, promFile)
	data, _ := os.ReadFile(promFile)
	for _, want := range []string{`hardbake_step_error{step="ssh"} 0`, `hardbake_check_ok{step="ssh",check="ssh.permitrootlogin",severity="fail"} 1`, "hardbake_audit_ok 0"} {
		if !strings.Contains(string(data), want+"\n") {
			t.Errorf("metrics written under systemd lack %s:\n%s", want, data)
		}
	}
}

func tail(s string, n int) string {
	lines := strings.Split(s, "\n")
	return strings.Join(lines[max(len(lines)-n, 0):], "\n")
}
