package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hardbake/hardbake/internal/vm"
)

// The power cut: a machine started from the sealed image loses power while
// hardbake-firstboot.service applies its host data; at the next boot the
// service runs again and must leave the machine as an uninterrupted first
// boot does.
//
// The moment is picked from the serial console, where the unit's status line
// and hardbake's own log lines appear (StandardOutput=journal+console): QEMU
// is killed (SIGKILL) as soon as the harness sees the line, 10 ms of polling
// at most after the guest printed it. What reached the disk by then is read
// offline (vm.InspectCrashed) before the disk boots again, so the test knows
// whether first boot really was interrupted: when the marker is already
// there, the cut came too late and proves nothing; the next, earlier cut
// point is tried, and the check fails if none interrupts it.

// cutPoint is a console line after which the power is cut.
type cutPoint struct {
	name, console string
}

// cutPoints, latest first: the latest leaves the most work half done.
// hardbake's output reaches the console through journald, as
// "[  71.19] hardbake[344]: host_keys:"; systemd's status line is cut to the
// console's width ("Starting hardbake-firstboo… settings, ...").
var cutPoints = []cutPoint{
	// The account, her key, the sudo rule and the host keys are done (not
	// yet synced: the sync comes before the marker); sshd's settings come
	// next.
	{"hardbake firstboot starts on sshd's settings", "]: ssh:"},
	// The account, her key and the sudo rule are done; the host keys (most
	// of first boot's time) come next.
	{"hardbake firstboot starts on the host keys", "]: host_keys:"},
	// hardbake has read and validated the host data and starts applying it.
	{"hardbake firstboot has read the host data", "]: firstboot: host data from"},
	// systemd starts the unit (its first mention on the console): the
	// process may not even have run yet.
	{"systemd starts hardbake-firstboot.service", "hardbake-firstboo"},
}

// firstbootOver are console lines that say first boot is over (its last
// line; the getty's prompt at the end of the boot, should it fail without
// one): seen before the cut point, the cut comes too late, and the harness
// need not wait for a line that will not come.
var firstbootOver = []string{"]: firstboot: done in", "login:"}

// Paths whose presence after the cut says how far first boot had come.
var (
	cutFiles = []string{"/var/lib/hardbake/firstboot.done", "/home/alice", "/home/alice/.ssh/authorized_keys"}
	cutDirs  = []string{"/var/lib/hardbake", "/etc/sudoers.d", "/etc/ssh"}
)

func (e *env) powerCut(t *testing.T) {
	check(t, "power cut during first boot: the next boot finishes it (alice by key, sudo, marker once, hardened sshd)", func(t *testing.T) {
		for i, cut := range cutPoints {
			disk := filepath.Join(e.work, fmt.Sprintf("powercut-%d.raw", i+1))
			if e.cutPower(t, cut, disk, i+1) {
				e.bootAfterCut(t, disk, i+1)
				os.Remove(disk)
				return
			}
			os.Remove(disk)
		}
		t.Fatalf("no cut point interrupted first boot (tried %d): no power-cut proof", len(cutPoints))
	})
}

// cutPower boots a fresh copy of the sealed image at disk with alice's seed,
// kills QEMU once the console shows cut.console, and says whether first boot
// was interrupted (no marker on the disk).
func (e *env) cutPower(t *testing.T, cut cutPoint, disk string, n int) bool {
	t.Helper()
	if err := vm.CopyDisk(filepath.Join(e.image, "disk.raw"), disk); err != nil {
		t.Fatal(err)
	}
	serial := filepath.Join(e.work, fmt.Sprintf("powercut-%d-serial.log", n))
	start := time.Now()
	v, err := vm.Boot(context.Background(), vm.Options{
		Disk:      disk,
		Kernel:    filepath.Join(e.image, "vmlinuz"),
		Initrd:    filepath.Join(e.image, "initrd.img"),
		Seed:      filepath.Join(e.work, "seed.iso"),
		SerialLog: serial,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	seen, _, err := v.WaitConsole(ctx, 0, 10*time.Millisecond, append([]string{cut.console}, firstbootOver...)...)
	cancel()
	v.Kill() // SIGKILL: QEMU gets no chance to flush or tell the guest
	if err != nil {
		t.Fatalf("cut %d (%s): %v", n, cut.name, err)
	}
	at := cut.console
	if seen > 0 {
		at = firstbootOver[seen-1]
		t.Logf("cut %d: the console showed %q before %q (%s)", n, at, cut.console, cut.name)
	}
	t.Logf("cut %d: QEMU killed %s after power-on, when the console showed %q; console tail:\n%s",
		n, time.Since(start).Round(time.Millisecond), at, tail(v.SerialLog(), 8))

	c, err := vm.InspectCrashed(disk, cutFiles, cutDirs)
	if err != nil {
		t.Fatal(err)
	}
	var state []string
	for _, p := range cutFiles {
		state = append(state, fmt.Sprintf("%s %s", p, map[bool]string{true: "present", false: "absent"}[c.Exists[p]]))
	}
	for _, d := range cutDirs {
		state = append(state, fmt.Sprintf("%s holds %v", d, c.Dirs[d]))
	}
	t.Logf("cut %d: the disk as the next boot finds it (journal replayed on a copy: %v):\n  %s",
		n, c.Recovered, strings.Join(state, "\n  "))
	if c.Exists["/var/lib/hardbake/firstboot.done"] {
		t.Logf("cut %d came too late: first boot had already finished (its marker is on the disk); this is no power-cut proof, trying an earlier cut", n)
		return false
	}
	t.Logf("cut %d interrupted first boot: no marker on the disk", n)
	return true
}

// bootAfterCut boots the cut disk again and checks the machine.
func (e *env) bootAfterCut(t *testing.T, disk string, n int) {
	t.Helper()
	key := filepath.Join(e.work, "alice_key")
	start := time.Now()
	v, err := vm.Boot(context.Background(), vm.Options{
		Disk:      disk,
		Kernel:    filepath.Join(e.image, "vmlinuz"),
		Initrd:    filepath.Join(e.image, "initrd.img"),
		Seed:      filepath.Join(e.work, "seed.iso"),
		SerialLog: filepath.Join(e.work, fmt.Sprintf("powercut-%d-after-serial.log", n)),
	})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := v.Stop(); err != nil {
			t.Log(err)
		}
		if t.Failed() {
			t.Logf("boot after cut %d, serial console (tail):\n%s", n, tail(v.SerialLog(), 60))
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	_, err = v.WaitSSH(ctx, "alice", loadKey(t, key))
	cancel()
	noteResets(t, v)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("boot after cut %d: alice's SSH login after %s", n, time.Since(start).Round(100*time.Millisecond))
	run := v.MustRun

	if out, err := openssh(key, v.SSHPort, "alice", nil, "id -un"); err != nil || strings.TrimSpace(out) != "alice" {
		t.Errorf("alice's key login (OpenSSH client): %v: %q", err, out)
	}
	if out, err := openssh(key, v.SSHPort, "alice", nil, "sudo -n true"); err != nil {
		t.Errorf("alice: sudo -n true: %v: %s", err, out)
	}
	run(t, "timeout 600 systemctl is-system-running --wait || true")
	fb, err := firstbootUnit(v.Run)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("boot after cut %d: hardbake-firstboot.service: %s", n, fb)
	if !fb.ran() || !fb.succeeded() {
		t.Errorf("hardbake-firstboot.service on the boot after the cut: %s; want it run and succeeded", fb)
	} else {
		e.number(t, "hardbake-firstboot.service on the boot after power cut %d, start to exit: %s", n, fb.took())
	}
	t.Logf("its journal:\n%s", run(t, "sudo -n journalctl -b -o cat --no-pager -u hardbake-firstboot.service | tail -n 20"))

	// The marker, once: the only file in its directory (no temporary file
	// of an interrupted write beside it), and a whole JSON document.
	if got := strings.Fields(run(t, "sudo -n ls -A /var/lib/hardbake")); !slices.Equal(got, []string{"firstboot.done"}) {
		t.Errorf("/var/lib/hardbake holds %q, want only firstboot.done", got)
	}
	var marker map[string]any
	if data := run(t, "sudo -n cat /var/lib/hardbake/firstboot.done"); json.Unmarshal([]byte(data), &marker) != nil {
		t.Errorf("the marker is not one JSON document: %q", data)
	}
	// Nothing of the interrupted run doubled: one account, her key once,
	// one sudo rule naming her, and sudoers as a whole valid.
	pub, err := os.ReadFile(key + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	blob := strings.Fields(string(pub))[1]
	counts := run(t, "grep -c '^alice:' /etc/passwd /etc/group; sudo -n grep -c '^alice:' /etc/shadow; "+
		"grep -cF '"+blob+"' ~alice/.ssh/authorized_keys; sudo -n grep -rlw alice /etc/sudoers.d | wc -l")
	if got := strings.Fields(counts); !slices.Equal(got, []string{"/etc/passwd:1", "/etc/group:1", "1", "1", "1"}) {
		t.Errorf("alice's account, key and sudo rule once each: passwd, group, shadow, authorized_keys, sudoers.d files = %q", got)
	}
	if out, err := v.Run("sudo -n visudo -c"); err != nil {
		t.Errorf("visudo -c: %v: %s", err, out)
	}
	checkHardenedSSHD(t, run(t, "sudo -n sshd -T"))
}
