package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hardbake/hardbake/internal/baseimage"
	"github.com/hardbake/hardbake/internal/vm"
)

// Lynis's hardening index before and after, opt-in with HARDBAKE_E2E_LYNIS=1
// (`make lynis`): under TCG on two cores one `lynis audit system` takes
// minutes, and the comparison needs a third boot (the unhardened base image),
// so it is not part of `make e2e`.
//
// "After" is the sealed golden image as booted for the other checks;
// "before" is the base image the packer build starts from
// (internal/baseimage), booted with a NoCloud seed that gives alice the same
// key and passwordless sudo. Both install Debian's lynis package from the
// release's mirror inside the VM (QEMU user networking reaches it), so both
// run the same Lynis version, and run it as root with sshd up.

func lynisEnabled() bool { return os.Getenv("HARDBAKE_E2E_LYNIS") == "1" }

// lynisResult is one `lynis audit system` run.
type lynisResult struct {
	index                 int
	version               string // the Debian package's version
	warnings, suggestions int
	took                  time.Duration
}

var hardeningIndexRE = regexp.MustCompile(`Hardening index : (\d+)`)

// lynis installs Debian's lynis package in the guest behind run and runs
// `lynis audit system --quick --no-colors` as root.
func lynis(t *testing.T, name string, run func(string) (string, error)) lynisResult {
	t.Helper()
	// apt-daily or unattended-upgrades may hold apt's locks after a boot:
	// dpkg's lock is waited for, the lists lock of `update` retried.
	apt := "sudo -n env DEBIAN_FRONTEND=noninteractive apt-get -q -o DPkg::Lock::Timeout=900 "
	install := "for i in 1 2 3 4 5 6; do " + apt + "update && break; sleep 30; done && " +
		apt + "-y install --no-install-recommends lynis"
	start := time.Now()
	if out, err := run(install); err != nil {
		t.Fatalf("%s: installing lynis: %v\n%s", name, err, tail(out, 30))
	}
	t.Logf("%s: apt-get install lynis: %s", name, time.Since(start).Round(time.Second))
	r := lynisResult{version: strings.TrimSpace(mustRun(t, run, "dpkg-query -W -f '${Version}' lynis"))}
	start = time.Now()
	out, err := run("sudo -n lynis audit system --quick --no-colors 2>&1")
	r.took = time.Since(start)
	if err != nil {
		t.Fatalf("%s: lynis audit system: %v\n%s", name, err, tail(out, 40))
	}
	m := hardeningIndexRE.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("%s: no \"Hardening index : N\" in Lynis's output:\n%s", name, tail(out, 60))
	}
	r.index, _ = strconv.Atoi(m[1])
	report := mustRun(t, run, "sudo -n cat /var/log/lynis-report.dat")
	if !strings.Contains(report, "\nhardening_index="+m[1]+"\n") {
		t.Errorf("%s: the screen says hardening index %s, /var/log/lynis-report.dat does not", name, m[1])
	}
	r.warnings = strings.Count(report, "\nwarning[]=")
	r.suggestions = strings.Count(report, "\nsuggestion[]=")
	t.Logf("%s: Lynis %s: hardening index %d, %d warning(s), %d suggestion(s), audit took %s",
		name, r.version, r.index, r.warnings, r.suggestions, r.took.Round(time.Second))
	t.Logf("%s: Lynis warnings and suggestions:\n%s", name, lynisFindings(report))
	return r
}

// lynisFindings lists the test IDs of the report's warnings and suggestions
// ("warning[]=SSH-7408|...|").
func lynisFindings(report string) string {
	var keep []string
	for _, l := range strings.Split(report, "\n") {
		if strings.HasPrefix(l, "warning[]=") || strings.HasPrefix(l, "suggestion[]=") {
			keep = append(keep, "  "+l)
		}
	}
	return strings.Join(keep, "\n")
}

// lynisHardened measures the hardened VM b (the first boot, still running).
func (e *env) lynisHardened(t *testing.T, b *booted) {
	check(t, "Lynis on the hardened, booted image: hardening index", func(t *testing.T) {
		r := lynis(t, "hardened", b.v.Run)
		e.lynisAfter = &r
		e.number(t, "Lynis %s hardening index, hardened image (booted): %d (%d warnings, %d suggestions; audit took %s)",
			r.version, r.index, r.warnings, r.suggestions, r.took.Round(time.Second))
	})
}

// lynisBase boots the unhardened base image (after the hardened VM is
// stopped: one TCG guest at a time) for the "before" number, and compares.
func (e *env) lynisBase(t *testing.T) {
	check(t, "Lynis on the unhardened base image: hardening index below the hardened one", func(t *testing.T) {
		v := e.bootBase(t)
		r := sshAudit(t, v.SSHPort)
		e.number(t, "ssh-audit %s, stock sshd of the booted base image: %d fail, %d warn", sshAuditVersion(), r.Fails, r.Warns)
		before := lynis(t, "base", v.Run)
		e.number(t, "Lynis %s hardening index, base image (booted): %d (%d warnings, %d suggestions; audit took %s)",
			before.version, before.index, before.warnings, before.suggestions, before.took.Round(time.Second))
		after := e.lynisAfter
		if after == nil {
			t.Fatal("no hardened number to compare with (its check failed)")
		}
		e.number(t, "Lynis hardening index %s: before %d, after %d", e.suite, before.index, after.index)
		if before.version != after.version {
			t.Errorf("different Lynis versions: base %s, hardened %s", before.version, after.version)
		}
		if after.index <= before.index {
			t.Errorf("hardening did not raise Lynis's index: before %d, after %d", before.index, after.index)
		}
	})
}

// bootBase boots the cached base image of the suite (-snapshot) with a
// NoCloud seed that creates alice with the e2e key and passwordless sudo, the
// way the packer template creates its build user, and waits for her login.
func (e *env) bootBase(t *testing.T) *vm.VM {
	t.Helper()
	img, err := baseimage.Build(e.suite, t.Logf)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := os.ReadFile(filepath.Join(e.work, "alice_key.pub"))
	if err != nil {
		t.Fatal(err)
	}
	userData := fmt.Sprintf("#cloud-config\nmanage_etc_hosts: true\nssh_pwauth: false\nusers:\n"+
		"  - name: alice\n    shell: /bin/bash\n    lock_passwd: true\n    sudo: \"ALL=(ALL) NOPASSWD:ALL\"\n"+
		"    ssh_authorized_keys:\n      - %s\n", strings.TrimSpace(string(pub)))
	seed := filepath.Join(e.work, "base-seed.iso")
	if err := vm.MakeSeedISO(seed, userData, "instance-id: hardbake-base\nlocal-hostname: base\n", ""); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	v, err := vm.Boot(context.Background(), vm.Options{
		Disk: img.Disk, Kernel: img.Kernel, Initrd: img.Initrd, Seed: seed,
		Snapshot: true, SerialLog: filepath.Join(e.work, "base-serial.log"),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := v.Stop(); err != nil {
			t.Log(err)
		}
		if t.Failed() {
			t.Logf("base serial console (tail):\n%s", tail(v.SerialLog(), 60))
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	if _, err := v.WaitSSH(ctx, "alice", loadKey(t, filepath.Join(e.work, "alice_key"))); err != nil {
		t.Fatal(err)
	}
	out, _ := v.Run("timeout 600 systemctl is-system-running --wait; cloud-init status --wait 2>&1 | tail -n 1")
	t.Logf("base image up in %s: %s", time.Since(start).Round(time.Second), strings.Join(strings.Fields(out), " "))
	return v
}
