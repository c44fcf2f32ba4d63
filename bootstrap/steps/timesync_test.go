package steps

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hardbake/hardbake/bootstrap/distro"
	"github.com/hardbake/hardbake/bootstrap/runner"
)

func TestTimesyncdConfig(t *testing.T) {
	// Debian 12's stock /etc/systemd/timesyncd.conf, [Time] section.
	stock := "[Time]\n#NTP=\n#FallbackNTP=0.debian.pool.ntp.org 1.debian.pool.ntp.org 2.debian.pool.ntp.org 3.debian.pool.ntp.org\n#RootDistanceMaxSec=5\n"
	fb := fallbackNTP(stock)
	if fb != "0.debian.pool.ntp.org 1.debian.pool.ntp.org 2.debian.pool.ntp.org 3.debian.pool.ntp.org" {
		t.Fatalf("fallback %q", fb)
	}
	if got := timesyncdConfig(nil, ""); got != "" {
		t.Errorf("nothing to say, yet a file: %q", got)
	}
	got := timesyncdConfig([]string{"169.254.169.123"}, fb)
	if !strings.Contains(got, "[Time]\nNTP=169.254.169.123\nFallbackNTP=0.debian.pool.ntp.org 1.") {
		t.Errorf("drop-in:\n%s", got)
	}
	if got := chronyServerNames(chronyServers([]string{"a.example", "10.0.0.1"})); strings.Join(got, " ") != "a.example 10.0.0.1" {
		t.Errorf("chrony servers %v", got)
	}
}

// TestTimeSyncOnRealRoots: the stock Debian 12 and 13 roots have no time
// daemon. auto installs systemd-timesyncd and enables it; the fallback
// servers it writes out are the ones compiled into the root's own
// timesyncd (so behaviour does not change); a second plan is empty. On
// Debian 12, choosing chrony then installs chrony and apt removes
// systemd-timesyncd: still exactly one.
func TestTimeSyncOnRealRoots(t *testing.T) {
	for _, suite := range []string{"bookworm", "trixie"} {
		t.Run(suite, func(t *testing.T) {
			env, dir := realRootEnv(t, suite, "")
			ctx := context.Background()
			checks, err := (TimeSync{}).Check(ctx, env)
			if err != nil {
				t.Fatal(err)
			}
			if checks[0].OK || checks[0].Got != "none" {
				t.Errorf("stock root: %+v", checks[0])
			}
			if _, err := (TimeSync{}).Apply(ctx, env); err != nil {
				t.Fatal(err)
			}
			checks, err = (TimeSync{}).Check(ctx, env)
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range checks {
				if !c.OK {
					t.Errorf("%s: want %s, got %s", c.ID, c.Want, c.Got)
				}
			}
			// The servers written out are the binary's built-in ones.
			_, fallback := timesyncdServers(env)
			var builtIn []byte
			for _, p := range []string{"usr/lib/systemd/systemd-timesyncd", "usr/lib/systemd/libsystemd-shared-*.so", "usr/lib/*/systemd/libsystemd-shared-*.so"} {
				m, _ := filepath.Glob(filepath.Join(dir, p))
				for _, f := range m {
					data, _ := os.ReadFile(f)
					builtIn = append(builtIn, data...)
				}
			}
			if fallback == "" || !bytes.Contains(builtIn, []byte(fallback)) {
				t.Errorf("FallbackNTP=%q is not what the root's systemd-timesyncd has built in", fallback)
			}
			if again, err := (TimeSync{}).Plan(ctx, env); err != nil || len(again) != 0 {
				t.Errorf("second plan: %v %v", Changes(again), err)
			}
			if suite != "bookworm" {
				return
			}
			env.Profile.TimeSync.Daemon = "chrony"
			env.Profile.TimeSync.Servers = []string{"169.254.169.123"}
			if _, err := (TimeSync{}).Apply(ctx, env); err != nil {
				t.Fatal(err)
			}
			checks, err = (TimeSync{}).Check(ctx, env)
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range checks {
				if !c.OK {
					t.Errorf("chrony: %s: want %s, got %s", c.ID, c.Want, c.Got)
				}
			}
			// chronyd's own parser says it reads the directory (it loads
			// the *.sources files in it at start).
			res, err := env.Run.Run(ctx, cmd("chronyd", "-p", "-f", "/etc/chrony/chrony.conf"))
			if err != nil || !strings.Contains(string(res.Stdout), "sourcedir /etc/chrony/sources.d\n") {
				t.Errorf("chronyd -p: %v\n%s%s", err, res.Stdout, res.Stderr)
			}
			if data, _ := os.ReadFile(filepath.Join(dir, ChronySources)); !strings.HasSuffix(ChronySources, ".sources") || !strings.Contains(string(data), "server 169.254.169.123 iburst\n") {
				t.Errorf("%s:\n%s", ChronySources, data)
			}
		})
	}
}

// TestTimeSyncFixtures: the daemon auto picks per family on fixture roots
// (Arch's timesyncd comes with its systemd package: nothing to install).
func TestTimeSyncFixtures(t *testing.T) {
	for name, want := range map[string]string{"rocky9": "dnf -y install chrony", "fedora41": "dnf -y install chrony", "arch": ""} {
		env, _ := goldenEnv(t, name, "", map[string]runner.Result{"rpm -q": {ExitCode: 1, Stdout: []byte("package x is not installed\n")}})
		if name == "arch" {
			dir := env.Root.HostPath("/var/lib/pacman/local/systemd-257.5-1")
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
		}
		actions, err := (TimeSync{}).Plan(context.Background(), env)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, a := range actions {
			if a.Kind == "run" && strings.Contains(a.Cmd.String(), "install") {
				got = append(got, a.Cmd.String())
			}
		}
		if strings.Join(got, "; ") != want {
			t.Errorf("%s: installs %q, want %q", name, got, want)
		}
	}
	env, _ := goldenEnv(t, "debian12", "", nil)
	env.Distro.ServiceManager = distro.SysV
	if want, _, err := (TimeSync{}).daemon(context.Background(), env); err != nil || want != "chrony" {
		t.Errorf("Debian with sysvinit: %q %v, want chrony (timesyncd needs systemd as init)", want, err)
	}
}
