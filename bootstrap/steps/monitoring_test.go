package steps

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/hardbake/hardbake/bootstrap/distro"
	"github.com/hardbake/hardbake/bootstrap/profile"
	"github.com/hardbake/hardbake/bootstrap/report"
	"github.com/hardbake/hardbake/bootstrap/runner"
	"github.com/hardbake/hardbake/internal/testroot"
)

func TestAuditUnitTexts(t *testing.T) {
	svc := AuditServiceUnit("/usr/bin/hardbake", "/srv/text")
	for _, want := range []string{
		"ExecStart=/usr/bin/hardbake audit --profile /etc/hardbake/profile.yaml --format prometheus -o /srv/text/hardbake.prom\n",
		"ConditionPathIsDirectory=/srv/text\n", "Type=oneshot\n", "SuccessExitStatus=1\n",
		"ProtectSystem=strict\n", "ReadWritePaths=/srv/text /run\n", "NoNewPrivileges=yes\n", "ProtectHome=read-only\n",
	} {
		if !strings.Contains(svc, want) {
			t.Errorf("service lacks %q:\n%s", want, svc)
		}
	}
	// What would change what audit sees of the host (see AuditServiceUnit).
	for _, never := range []string{"PrivateTmp", "PrivateDevices", "PrivateNetwork", "ProtectKernelModules", "DevicePolicy", "[Install]"} {
		if strings.Contains(svc, never) {
			t.Errorf("service has %s", never)
		}
	}
	for interval, want := range map[int][]string{
		60:   {"OnBootSec=5min\n", "OnUnitActiveSec=60min\n", "RandomizedDelaySec=6min\n", "WantedBy=timers.target\n"},
		5:    {"OnUnitActiveSec=5min\n", "RandomizedDelaySec=1min\n"},
		1440: {"OnUnitActiveSec=1440min\n", "RandomizedDelaySec=15min\n"},
	} {
		timer := AuditTimerUnit(interval)
		for _, w := range want {
			if !strings.Contains(timer, w) {
				t.Errorf("timer(%d) lacks %q:\n%s", interval, w, timer)
			}
		}
	}
}

// TestMonitoringStepDebian bakes the step into a real Debian root: the
// units are installed and judged by the root's own systemd-analyze, the
// timer is enabled only when the profile asks, and a second bake changes
// nothing.
func TestMonitoringStepDebian(t *testing.T) {
	if testing.Short() {
		t.Skip("real mmdebstrap roots: not in -short")
	}
	if os.Geteuid() != 0 {
		t.Skip("chroot needs root")
	}
	dir := testroot.Debian(t, "bookworm")
	env := debianEnv(t, dir)
	ctx := context.Background()
	wants := env.Root.HostPath("/etc/systemd/system/timers.target.wants/" + AuditTimerName)

	rep, err := Run(ctx, env, ModeBake, []Step{Monitoring{}})
	if err != nil || !rep.OK {
		t.Fatalf("bake: %v\n%+v", err, rep)
	}
	for path, text := range map[string]string{
		AuditService: AuditServiceUnit(FirstbootBinary, DefaultTextfileDir),
		AuditTimer:   AuditTimerUnit(DefaultAuditInterval),
	} {
		if got, _ := os.ReadFile(env.Root.HostPath(path)); string(got) != text {
			t.Errorf("%s:\n%s\nwant:\n%s", path, got, text)
		}
	}
	if _, err := os.Lstat(wants); err == nil {
		t.Fatal("the timer was enabled although monitoring.audit_timer is off")
	}
	if !env.Root.Exists(FirstbootBinary) || !env.Root.Exists(BakedProfile) {
		t.Fatal("the service's binary or profile is missing")
	}
	// The root's own systemd judges the units (ExecStart's binary included).
	out, err := exec.Command("chroot", dir, "systemd-analyze", "verify", "--man=no", AuditService, AuditTimer).CombinedOutput()
	if err != nil {
		t.Fatalf("systemd-analyze verify: %v\n%s", err, out)
	}

	// The profile asks: enabled, with node_exporter's directory.
	p, err := profile.Parse([]byte("monitoring:\n  audit_timer: true\n  interval: 15\n"))
	if err != nil {
		t.Fatal(err)
	}
	env.Profile = p
	rep, err = Run(ctx, env, ModeBake, []Step{Monitoring{}})
	if err != nil || !rep.OK {
		t.Fatalf("bake with audit_timer: %v\n%+v", err, rep)
	}
	if target, err := os.Readlink(wants); err != nil || target != AuditTimer {
		t.Fatalf("timer not enabled by systemctl: %q %v", target, err)
	}
	if fi, err := os.Stat(env.Root.HostPath(DefaultTextfileDir)); err != nil || !fi.IsDir() || fi.Mode().Perm() != 0o755 {
		t.Fatalf("textfile directory: %v %v", fi, err)
	}
	if timer, _ := os.ReadFile(env.Root.HostPath(AuditTimer)); !strings.Contains(string(timer), "OnUnitActiveSec=15min") {
		t.Errorf("interval not applied:\n%s", timer)
	}
	wantChecks(t, rep, "monitoring.service", "monitoring.timer", "monitoring.timer_enabled", "monitoring.textfile_dir")

	rep, err = Run(ctx, env, ModeBake, []Step{Monitoring{}})
	if err != nil || rep.Changed != 0 {
		t.Fatalf("second bake: %d change(s), %v\n%+v", rep.Changed, err, rep.Steps)
	}

	// Drift: the timer disabled behind hardbake's back fails the audit.
	if err := os.Remove(wants); err != nil {
		t.Fatal(err)
	}
	rep, _ = Run(ctx, env, ModeAudit, []Step{Monitoring{}})
	if c := findCheck(t, rep, "monitoring.timer_enabled"); c.OK {
		t.Errorf("disabled timer passed: %+v", c)
	}
}

func wantChecks(t *testing.T, rep *report.Report, ids ...string) {
	t.Helper()
	for _, id := range ids {
		if c := findCheck(t, rep, id); !c.OK {
			t.Errorf("%s: want %s, got %s", id, c.Want, c.Got)
		}
	}
}

func TestMonitoringWithoutSystemd(t *testing.T) {
	for _, timer := range []bool{false, true} {
		env := sysvEnv(t, distro.SysV)
		env.Profile.Monitoring.AuditTimer = timer
		actions, err := Monitoring{}.Plan(context.Background(), env)
		if err != nil || len(actions) > 0 {
			t.Fatalf("audit_timer %v: plan %+v %v", timer, actions, err)
		}
		checks, _ := Monitoring{}.Check(context.Background(), env)
		switch {
		case !timer && len(checks) > 0:
			t.Errorf("nothing asked, checks %+v", checks)
		case timer && (len(checks) != 1 || checks[0].Severity != report.Warn || !strings.Contains(checks[0].Got, "--format prometheus -o /var/lib/prometheus/node-exporter/hardbake.prom")):
			t.Errorf("audit_timer without systemd: %+v", checks)
		}
	}
}

// TestMonitoringEveryFamily: on every family's fixture root (real default
// files; all systemd) a bake with audit_timer: true installs the same units
// into /etc/systemd/system, makes node_exporter's directory where the root
// lacks it, and enables the timer with systemctl, which works offline.
func TestMonitoringEveryFamily(t *testing.T) {
	for _, c := range goldenCases {
		t.Run(c.name, func(t *testing.T) {
			env, rec := goldenEnv(t, c.name, "monitoring:\n  audit_timer: true\n  interval: 30\n", map[string]runner.Result{"systemctl enable": {}, "mkdir": {}})
			if _, err := (Monitoring{}).Apply(context.Background(), env); err != nil {
				t.Fatal(err)
			}
			for path, text := range map[string]string{
				AuditService: AuditServiceUnit(FirstbootBinary, DefaultTextfileDir),
				AuditTimer:   AuditTimerUnit(30),
			} {
				if got, _ := env.Root.ReadFile(path); string(got) != text {
					t.Errorf("%s:\n%s", path, got)
				}
			}
			want := []string{"mkdir -p -m 0755 /var/lib/prometheus/node-exporter", "systemctl enable hardbake-audit.timer"}
			if got := rec.Strings(); strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Errorf("commands %q, want %q", got, want)
			}
		})
	}
}
