package steps

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/hardbake/hardbake/bootstrap"
	"github.com/hardbake/hardbake/bootstrap/profile"
	"github.com/hardbake/hardbake/bootstrap/report"
	"github.com/hardbake/hardbake/bootstrap/runner"
	"github.com/hardbake/hardbake/internal/testroot"
)

// kernelEnv is a fixture root (../roots/name with ./kernel/name's sysctl
// files laid over it) and a profile; commands go to a Recorder that answers
// none, so modprobe -c cannot run and the checks read the files.
func kernelEnv(t *testing.T, name, prof string) (*Env, string) {
	t.Helper()
	dir := testroot.Copy(t, filepath.Join("testdata/roots", name))
	if extra := filepath.Join("testdata/kernel", name); dirExists(extra) {
		if out, err := exec.Command("cp", "-a", extra+"/.", dir).CombinedOutput(); err != nil {
			t.Fatalf("%v %s", err, out)
		}
	}
	r, d := testroot.Open(t, dir)
	p, err := profile.Parse([]byte(prof))
	if err != nil {
		t.Fatal(err)
	}
	return &Env{Root: r, Run: &runner.Recorder{}, Distro: d, Profile: p}, dir
}

func dirExists(p string) bool { fi, err := os.Stat(p); return err == nil && fi.IsDir() }

// bakeKernel executes the kernel step's plan (no package session: the
// fixture roots have no package manager).
func bakeKernel(t *testing.T, env *Env) {
	t.Helper()
	actions, err := Kernel{}.Plan(context.Background(), env)
	if err != nil {
		t.Fatal(err)
	}
	var files []Action
	for _, a := range actions {
		if a.Kind == "write" || a.Kind == "remove" {
			files = append(files, a)
		}
	}
	if _, err := Execute(context.Background(), env, files); err != nil {
		t.Fatal(err)
	}
}

func kernelChecks(t *testing.T, env *Env) map[string]report.Check {
	t.Helper()
	checks, err := Kernel{}.Check(context.Background(), env)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]report.Check{}
	for _, c := range checks {
		out[c.ID] = c
	}
	return out
}

// TestKernelOverDistroFiles: the distributions' own sysctl files are found
// before the bake (Fedora's systemd sets fs.suid_dumpable = 2 and, by glob,
// a loose rp_filter on every interface; Ubuntu's procps rp_filter = 2), our
// later file wins after it, and the scanner's view still names their lines.
func TestKernelOverDistroFiles(t *testing.T) {
	for _, c := range []struct {
		name   string
		before map[string]string // check id -> "got from-origin" substring
		others []string          // lines the scanner's view lists after the bake
	}{
		{"fedora41", map[string]string{
			"kernel.sysctl.fs.suid_dumpable":                "2 /usr/lib/sysctl.d/50-coredump.conf:3",
			"kernel.sysctl.net.ipv4.conf.default.rp_filter": "2 /usr/lib/sysctl.d/50-default.conf:27",
			// the exclusion keeps "all" out of the glob: nothing sets it
			"kernel.sysctl.net.ipv4.conf.all.rp_filter": "not set ",
		}, []string{"/usr/lib/sysctl.d/50-coredump.conf:3: fs.suid_dumpable = 2", "/usr/lib/sysctl.d/50-default.conf:27: net.ipv4.conf.default.rp_filter = 2",
			"/usr/lib/sysctl.d/50-default.conf:57: fs.protected_regular = 1"}},
		{"ubuntu2404", map[string]string{
			"kernel.sysctl.net.ipv4.conf.all.rp_filter": "2 /etc/sysctl.d/10-network-security.conf:4",
			"kernel.sysctl.kernel.yama.ptrace_scope":    "1 /etc/sysctl.d/10-ptrace.conf:1",
		}, []string{"/etc/sysctl.d/10-network-security.conf:3: net.ipv4.conf.default.rp_filter = 2", "/etc/sysctl.d/10-network-security.conf:4: net.ipv4.conf.all.rp_filter = 2"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			env, _ := kernelEnv(t, c.name, "")
			before := kernelChecks(t, env)
			for id, want := range c.before {
				got := before[id]
				if s := got.Got + " " + got.Detail; !strings.Contains(s, strings.SplitN(want, " ", 2)[0]) || !strings.Contains(s, strings.SplitN(want, " ", 2)[1]) {
					t.Errorf("before: %s got %q (%s), want %q", id, got.Got, got.Detail, want)
				}
			}
			bakeKernel(t, env)
			after := kernelChecks(t, env)
			for id, ch := range after {
				if !ch.OK && ch.Severity != report.Warn {
					t.Errorf("after: %s want %s, got %s (%s)", id, ch.Want, ch.Got, ch.Detail)
				}
			}
			view := after["kernel.sysctl.other_files"]
			for _, l := range c.others {
				if !strings.Contains(view.Detail, l) {
					t.Errorf("scanner view lacks %q: %s", l, view.Detail)
				}
			}
			if strings.Contains(view.Detail, SysctlDropIn) {
				t.Errorf("scanner view lists our own file: %s", view.Detail)
			}
			if actions, err := (Kernel{}).Plan(context.Background(), env); err != nil || len(actions) != 0 {
				t.Errorf("second plan: %v %v", Changes(actions), err)
			}
		})
	}
}

// TestKernelLaterFileOverrides: a file sorting after ours (a user's, a
// cloud agent's) that sets another value is reported with its line, and so
// is a glob that beats our per-interface value.
func TestKernelLaterFileOverrides(t *testing.T) {
	env, dir := kernelEnv(t, "debian12", "")
	bakeKernel(t, env)
	if err := os.WriteFile(filepath.Join(dir, "etc/sysctl.d/99-zzz-agent.conf"),
		[]byte("# an agent's file\nnet.ipv4.conf.all.rp_filter = 2\nnet.ipv4.conf.e*.accept_redirects = 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	got := kernelChecks(t, env)
	for id, origin := range map[string]string{
		"kernel.sysctl.net.ipv4.conf.all.rp_filter":      "/etc/sysctl.d/99-zzz-agent.conf:2 (2)",
		"kernel.sysctl.net.ipv4.conf.*.accept_redirects": "/etc/sysctl.d/99-zzz-agent.conf:3 (1)",
	} {
		if c := got[id]; c.OK || !strings.Contains(c.Detail, origin) {
			t.Errorf("%s: ok=%v got %s detail %q, want a failure naming %s", id, c.OK, c.Got, c.Detail, origin)
		}
	}
}

// TestKernelRefusesMountedModules: a module the image mounts with is never
// blocked, whoever lists it; nothing is written.
func TestKernelRefusesMountedModules(t *testing.T) {
	env, dir := kernelEnv(t, "debian12", "kernel:\n  disable_modules: [cramfs, vfat, iso9660, isofs]\n")
	if err := os.WriteFile(filepath.Join(dir, "etc/fstab"),
		[]byte("UUID=1 / ext4 defaults 0 1\nUUID=2 /boot/efi vfat umask=0077 0 1\n/dev/sr0 /media/cdrom iso9660 ro,noauto 0 0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Kernel{}.Plan(context.Background(), env)
	if !errors.Is(err, bootstrap.ErrInvalid) {
		t.Fatalf("want ErrInvalid, got %v", err)
	}
	for _, s := range []string{"vfat (/etc/fstab mounts /boot/efi as vfat)", "isofs (/etc/fstab mounts /media/cdrom as iso9660)"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error lacks %q: %v", s, err)
		}
	}
	if strings.Contains(err.Error(), "cramfs") {
		t.Errorf("cramfs is not mounted: %v", err)
	}
	if env.Root.Exists(ModprobeBlockList) || env.Root.Exists(SysctlDropIn) {
		t.Error("a refused plan wrote files")
	}
}

// TestKernelKnobs: forwarding and router advertisements follow the
// profile, and so do the deviations.
func TestKernelKnobs(t *testing.T) {
	refs := func(env *Env) []string {
		var out []string
		for _, d := range (Kernel{}).Deviations(env) {
			out = append(out, d.Refs...)
		}
		return out
	}
	env, _ := kernelEnv(t, "debian12", "")
	text := sysctlDropInText(kernelSysctl(env.Profile.Kernel))
	if !strings.Contains(text, "\nnet.ipv4.ip_forward = 0\n") || strings.Contains(text, "accept_ra") {
		t.Errorf("default drop-in:\n%s", text)
	}
	r := refs(env)
	if !slices.Contains(r, "ssg:sysctl_net_ipv6_conf_all_accept_ra") || slices.Contains(r, "ssg:sysctl_net_ipv4_ip_forward") || slices.Contains(r, "ssg:kernel_module_cramfs_disabled") {
		t.Errorf("default deviations: %v", r)
	}
	env, _ = kernelEnv(t, "debian12", "kernel:\n  ip_forward: true\n  ipv6_router_advertisements: false\n  core_dumps: true\n  disable_modules: [usb_storage]\n")
	text = sysctlDropInText(kernelSysctl(env.Profile.Kernel))
	if strings.Contains(text, "forward") || strings.Contains(text, "suid_dumpable") || !strings.Contains(text, "\nnet.ipv6.conf.all.accept_ra = 0\nnet.ipv6.conf.default.accept_ra = 0\n") {
		t.Errorf("knobs' drop-in:\n%s", text)
	}
	r = refs(env)
	for _, want := range []string{"ssg:sysctl_net_ipv4_ip_forward", "ssg:sysctl_net_ipv6_conf_all_forwarding", "ssg:disable_users_coredumps", "ssg:kernel_module_cramfs_disabled"} {
		if !slices.Contains(r, want) {
			t.Errorf("deviations lack %s: %v", want, r)
		}
	}
	if slices.Contains(r, "ssg:sysctl_net_ipv6_conf_all_accept_ra") || slices.Contains(r, "ssg:kernel_module_usb-storage_disabled") {
		t.Errorf("deviations name what is done: %v", r)
	}
	bakeKernel(t, env)
	if env.Root.Exists(CoreLimits) {
		t.Error("core_dumps: true wrote the limits file")
	}
}

// TestForwardingGuard: a live host that forwards now (Docker set it) is not
// cut off by the default profile.
func TestForwardingGuard(t *testing.T) {
	on := map[string]string{"net.ipv4.ip_forward": "1", "net.ipv6.conf.all.forwarding": "0"}
	off := map[string]string{"net.ipv4.ip_forward": "0", "net.ipv6.conf.all.forwarding": "0"}
	for _, c := range []struct {
		name    string
		live    map[string]string
		forward bool
		force   bool
		refused bool
	}{
		{"forwarding now, profile off", on, false, false, true},
		{"forwarding now, profile on", on, true, false, false},
		{"forwarding now, --force", on, false, true, false},
		{"not forwarding", off, false, false, false},
		{"no such keys (no IPv6, a container)", map[string]string{}, false, false, false},
	} {
		err := forwardingGuard(c.live, profile.Kernel{IPForward: c.forward}, c.force)
		if (err != nil) != c.refused || (err != nil && (!errors.Is(err, bootstrap.ErrInvalid) || !strings.Contains(err.Error(), "net.ipv4.ip_forward = 1"))) {
			t.Errorf("%s: %v", c.name, err)
		}
	}
}
