package steps

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hardbake/hardbake/bootstrap/report"
)

func TestMACTexts(t *testing.T) {
	cfg := "menuentry 'Debian' {\n\tlinux\t/boot/vmlinuz-6.1.0-50-cloud-amd64 root=UUID=x ro console=ttyS0 apparmor=1 security=apparmor\n}\n" +
		"menuentry 'Debian (recovery)' {\n\tlinux\t/boot/vmlinuz-6.1.0-50-cloud-amd64 root=UUID=x ro single\n}\n"
	if all, n := linuxLinesWith(cfg, "apparmor=1", "security=apparmor"); all || n != 2 {
		t.Errorf("a recovery entry without the parameters passes: %v %d", all, n)
	}
	if all, _ := linuxLinesWith(strings.Replace(cfg, "ro single", "ro single apparmor=1 security=apparmor", 1), "apparmor=1", "security=apparmor"); !all {
		t.Error("every line has them, not seen")
	}
	if all, _ := linuxLinesWith("# linux apparmor=1 security=apparmor\n", "apparmor=1"); all {
		t.Error("a comment counts as a kernel line")
	}
	for config, want := range map[string][2]bool{
		"CONFIG_SECURITY_APPARMOR=y\nCONFIG_LSM=\"landlock,lockdown,yama,integrity,apparmor,selinux,bpf\"\n": {true, true},
		"CONFIG_SECURITY_APPARMOR=y\nCONFIG_LSM=\"landlock,lockdown,yama,integrity,selinux,apparmor,bpf\"\n": {true, false},
		"# CONFIG_SECURITY_APPARMOR is not set\nCONFIG_LSM=\"apparmor\"\n":                                   {false, false},
	} {
		if b, on := kernelAppArmor(config); b != want[0] || on != want[1] {
			t.Errorf("%q: built in %v, on %v", config, b, on)
		}
	}
	if e, c, u, o := appArmorModes("/usr/sbin/chronyd (enforce)\nlsb_release (complain)\nbrave (unconfined)\nfoo (kill)\n\n"); e != 1 || c != 1 || u != 1 || o != 1 {
		t.Errorf("modes %d %d %d %d", e, c, u, o)
	}
	in := "# This file controls the state of SELinux\nSELINUX=permissive\n# SELINUXTYPE= can take one of these:\nSELINUXTYPE=targeted\n"
	if out := selinuxEnforcing(in); out != strings.Replace(in, "SELINUX=permissive", "SELINUX=enforcing", 1) {
		t.Errorf("selinux config:\n%s", out)
	}
}

// TestMACSELinuxFixture: on a Rocky 9 fixture root a permissive SELinux is
// made enforcing (the file's other lines kept), an enforcing one left, and
// a disabled one reported as a warning, never switched.
func TestMACSELinuxFixture(t *testing.T) {
	stock := "# This file controls the state of SELinux on the system.\nSELINUX=%s\nSELINUXTYPE=targeted\n"
	for mode, want := range map[string]string{"permissive": "enforcing", "enforcing": "enforcing", "disabled": "disabled"} {
		env, _ := goldenEnv(t, "rocky9", "", nil)
		dir := env.Root.HostPath("/")
		if err := os.MkdirAll(filepath.Join(dir, "etc/selinux"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "etc/selinux/config"), []byte(strings.Replace(stock, "%s", mode, 1)), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := (MAC{}).Apply(context.Background(), env); err != nil {
			t.Fatal(err)
		}
		data, _ := os.ReadFile(filepath.Join(dir, "etc/selinux/config"))
		if got := selinuxSetting(string(data), "SELINUX"); got != want || !strings.HasPrefix(string(data), "# This file controls") {
			t.Errorf("%s: now %q:\n%s", mode, got, data)
		}
		checks, err := (MAC{}).Check(context.Background(), env)
		if err != nil {
			t.Fatal(err)
		}
		if c := checks[0]; c.OK != (want == "enforcing") || (mode == "disabled") != (c.Severity == report.Warn) {
			t.Errorf("%s: %+v", mode, c)
		}
		if len((MAC{}).Deviations(env)) != 0 {
			t.Errorf("%s: deviations on the RHEL family", mode)
		}
	}
}

// TestMACOnRealRoots installs AppArmor into Debian 12 and 13 roots. Every
// profile then in /etc/apparmor.d compiles with the root's own
// apparmor_parser (a profile that does not would fail apparmor.service at
// boot), the service is enabled, the kernels have AppArmor on by default,
// and without GRUB the GRUB rule is a deviation. The GRUB drop-in is judged
// by sourcing it the way grub-mkconfig does.
func TestMACOnRealRoots(t *testing.T) {
	for _, suite := range []string{"bookworm", "trixie"} {
		t.Run(suite, func(t *testing.T) {
			env, dir := realRootEnv(t, suite, "")
			ctx := context.Background()
			if _, err := (MAC{}).Apply(ctx, env); err != nil {
				t.Fatal(err)
			}
			checks, err := (MAC{}).Check(ctx, env)
			if err != nil {
				t.Fatal(err)
			}
			kernels := 0
			for _, c := range checks {
				if !c.OK {
					t.Errorf("%s: want %s, got %s", c.ID, c.Want, c.Got)
				}
				if strings.HasPrefix(c.ID, "mac.kernel ") {
					kernels++
				}
			}
			if kernels == 0 {
				t.Error("no kernel configuration read")
			}
			if d := (MAC{}).Deviations(env); len(d) != 2 || d[0].Refs[0] != "ssg:all_apparmor_profiles_in_enforce_complain_mode" || d[1].Refs[0] != "ssg:grub2_enable_apparmor" {
				t.Errorf("deviations of an offline root without GRUB: %+v", d)
			}
			profiles, _ := filepath.Glob(filepath.Join(dir, "etc/apparmor.d/*"))
			parsed := 0
			for _, p := range profiles {
				if fi, err := os.Stat(p); err != nil || fi.IsDir() {
					continue
				}
				in := "/" + strings.TrimPrefix(p, dir+"/")
				if res, err := env.Run.Run(ctx, cmd("apparmor_parser", "--skip-kernel-load", "--skip-cache", in)); err != nil {
					t.Errorf("apparmor_parser %s: %v\n%s", in, err, res.Stderr)
				}
				parsed++
			}
			if parsed == 0 {
				t.Error("no profile to parse")
			}
			if again, err := (MAC{}).Plan(ctx, env); err != nil || len(again) != 0 {
				t.Errorf("second plan: %v %v", Changes(again), err)
			}
			// The drop-in as grub-mkconfig reads it: /etc/default/grub, then
			// each grub.d/*.cfg, sourced by sh.
			if err := os.MkdirAll(filepath.Join(dir, "etc/default/grub.d"), 0o755); err != nil {
				t.Fatal(err)
			}
			os.WriteFile(filepath.Join(dir, "etc/default/grub"), []byte("GRUB_CMDLINE_LINUX=\"console=ttyS0\"\n"), 0o644)
			os.WriteFile(filepath.Join(dir, GrubAppArmor), []byte(grubAppArmorText), 0o644)
			res, err := env.Run.Run(ctx, cmd("sh", "-c", `. /etc/default/grub; for x in /etc/default/grub.d/*.cfg; do . "$x"; done; echo "$GRUB_CMDLINE_LINUX"`))
			if err != nil || strings.TrimSpace(string(res.Stdout)) != "console=ttyS0 apparmor=1 security=apparmor" {
				t.Errorf("GRUB_CMDLINE_LINUX after the drop-in: %q %v", res.Stdout, err)
			}
		})
	}
}
