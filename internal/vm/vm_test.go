package vm_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/hardbake/hardbake/internal/testroot"
	"github.com/hardbake/hardbake/internal/vm"
)

// image is a bootable disk plus its kernel and initrd.
type image struct {
	root, disk, kernel, initrd string
}

// buildImage prepares a copy of the suite's cached root; stock leaves
// cloud-init's configuration as the packages ship it.
func buildImage(t *testing.T, suite string, rootKey ssh.PublicKey, stock bool) image {
	t.Helper()
	root := testroot.Debian(t, suite)
	if stock {
		if err := vm.AuthorizeKeys(root, "root", rootKey); err != nil {
			t.Fatal(err)
		}
		if err := vm.EnsureHostKeys(root); err != nil {
			t.Fatal(err)
		}
		if err := vm.WriteDHCPConfig(root); err != nil {
			t.Fatal(err)
		}
	} else if err := vm.PrepareRoot(root, rootKey); err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	kernel, initrd, err := vm.CopyKernel(root, out)
	if err != nil {
		t.Fatal(err)
	}
	disk := filepath.Join(out, "disk.raw")
	start := time.Now()
	if err := vm.BuildDiskImage(root, disk, 2048); err != nil {
		t.Fatal(err)
	}
	t.Logf("%s: disk image (mkfs.ext4 -d, 2048 MiB sparse) built in %s", suite, time.Since(start).Round(time.Millisecond))
	return image{root, disk, kernel, initrd}
}

func boot(t *testing.T, ctx context.Context, img image, seed string) *vm.VM {
	t.Helper()
	v, err := vm.Boot(ctx, vm.Options{
		Disk: img.disk, Kernel: img.kernel, Initrd: img.initrd,
		Seed:      seed,
		SerialLog: filepath.Join(t.TempDir(), "serial.log"),
		Snapshot:  true,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := v.Stop(); err != nil {
			t.Log(err)
		}
		if out := strings.TrimSpace(v.QEMUOutput()); out != "" {
			t.Logf("qemu said: %s", out)
		}
		if t.Failed() {
			t.Logf("serial console:\n%s", v.SerialLog())
		}
	})
	return v
}

// systemState waits for boot to finish and returns is-system-running's
// verdict; when degraded it logs which units failed and why.
func systemState(t *testing.T, v *vm.VM) string {
	t.Helper()
	out, _ := v.Run("timeout 300 systemctl is-system-running --wait")
	state := strings.TrimSpace(out)
	if state != "running" {
		failed, _ := v.Run("systemctl --failed --no-legend --plain")
		t.Logf("system state %q; failed units:\n%s", state, failed)
		for _, line := range strings.Split(strings.TrimSpace(failed), "\n") {
			if f := strings.Fields(line); len(f) > 0 {
				j, _ := v.Run("journalctl -b --no-pager -n 20 -u " + f[0])
				t.Logf("journal of %s:\n%s", f[0], j)
			}
		}
	}
	if state != "running" && state != "degraded" {
		t.Errorf("systemctl is-system-running --wait = %q, want running (or degraded)", state)
	}
	return state
}

func hostKeys(t *testing.T, root string) map[string]bool {
	t.Helper()
	keys := map[string]bool{}
	files, _ := filepath.Glob(filepath.Join(root, "etc/ssh/ssh_host_*_key.pub"))
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		k, _, _, _, err := ssh.ParseAuthorizedKey(data)
		if err != nil {
			t.Fatal(err)
		}
		keys[string(k.Marshal())] = true
	}
	return keys
}

// TestBoot boots the cached Debian root in QEMU (TCG), once without a seed
// (cloud-init disabled by ds-identify) and once with a NoCloud seed ISO whose
// #cloud-config creates a user with an SSH key. Suites come from
// $HARDBAKE_VM_SUITES (default bookworm; e.g. "bookworm trixie").
// HARDBAKE_VM_STOCK=1 adds a boot with cloud-init configured as shipped, for
// comparison.
func TestBoot(t *testing.T) {
	if os.Getenv("HARDBAKE_VM") != "1" {
		t.Skip("boots real QEMU VMs under TCG (minutes on 2 cores): set HARDBAKE_VM=1 to run")
	}
	suites := strings.Fields(os.Getenv("HARDBAKE_VM_SUITES"))
	if len(suites) == 0 {
		suites = []string{"bookworm"}
	}
	for _, suite := range suites {
		t.Run(suite, func(t *testing.T) { testBoot(t, suite) })
	}
}

func testBoot(t *testing.T, suite string) {
	rootSigner := vm.NewSigner(t)
	img := buildImage(t, suite, rootSigner.PublicKey(), false)
	wantHostKeys := hostKeys(t, img.root)

	t.Run("noseed", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		defer cancel()
		start := time.Now()
		v := boot(t, ctx, img, "")
		if _, err := v.WaitSSH(ctx, "root", rootSigner); err != nil {
			t.Fatal(err)
		}
		t.Logf("%s without seed: boot to SSH in %s", suite, time.Since(start).Round(100*time.Millisecond))
		if !wantHostKeys[string(v.HostKey().Marshal())] {
			t.Errorf("guest presented a host key that is not in the image's /etc/ssh")
		}
		t.Logf("uname -r: %s", v.MustRun(t, "uname -r"))
		state := systemState(t, v)
		t.Logf("%s without seed: is-system-running %q after %s", suite, state, time.Since(start).Round(100*time.Millisecond))
		ci, _ := v.Run("cloud-init status")
		if !strings.Contains(ci, "disabled") {
			t.Errorf("cloud-init without a seed should be disabled by ds-identify, got: %s", ci)
		}
		t.Logf("cloud-init: %s", strings.TrimSpace(ci))
		// The guest reaches the outside through QEMU's user network (DNS too).
		if out, err := v.Run("getent hosts deb.debian.org && ip -4 -br addr show"); err != nil {
			t.Errorf("guest networking: %v\n%s", err, out)
		} else {
			t.Logf("guest network:\n%s", out)
		}
		stop := time.Now()
		if err := v.Stop(); err != nil {
			t.Fatal(err)
		}
		t.Logf("graceful power-off in %s", time.Since(stop).Round(100*time.Millisecond))
	})

	if os.Getenv("HARDBAKE_VM_STOCK") == "1" {
		t.Run("stock-cloud-init", func(t *testing.T) {
			stock := buildImage(t, suite, rootSigner.PublicKey(), true)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
			defer cancel()
			start := time.Now()
			v := boot(t, ctx, stock, "")
			if _, err := v.WaitSSH(ctx, "root", rootSigner); err != nil {
				t.Fatal(err)
			}
			t.Logf("%s, stock cloud-init config, no seed: boot to SSH in %s", suite, time.Since(start).Round(100*time.Millisecond))
			state := systemState(t, v)
			ci, _ := v.Run("cloud-init status --long; cat /run/cloud-init/ds-identify.log 2>/dev/null | tail -n 5")
			t.Logf("%s, stock: is-system-running %q after %s; cloud-init:\n%s", suite, state, time.Since(start).Round(100*time.Millisecond), ci)
		})
	}

	t.Run("nocloud-seed", func(t *testing.T) {
		userSigner := vm.NewSigner(t)
		userData := fmt.Sprintf(`#cloud-config
manage_etc_hosts: true
users:
  - name: tester
    shell: /bin/bash
    sudo: "ALL=(ALL) NOPASSWD:ALL"
    ssh_authorized_keys:
      - %s
`, bytes.TrimSpace(ssh.MarshalAuthorizedKey(userSigner.PublicKey())))
		seed := filepath.Join(t.TempDir(), "seed.iso")
		if err := vm.MakeSeedISO(seed, userData, "instance-id: iid-hardbake-test\nlocal-hostname: seeded\n", ""); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		defer cancel()
		start := time.Now()
		v := boot(t, ctx, img, seed)
		if _, err := v.WaitSSH(ctx, "tester", userSigner); err != nil {
			t.Fatal(err)
		}
		t.Logf("%s with NoCloud seed: boot to SSH as the cloud-init user in %s", suite, time.Since(start).Round(100*time.Millisecond))
		if id := v.MustRun(t, "id -un && sudo -n id -un && hostname"); id != "tester\nroot\nseeded" {
			t.Errorf("id/sudo/hostname = %q", id)
		}
		ci, err := v.Run("cloud-init status --wait --long")
		t.Logf("cloud-init status after %s:\n%s", time.Since(start).Round(100*time.Millisecond), ci)
		if err != nil || !strings.Contains(ci, "status: done") {
			t.Errorf("cloud-init status: %v", err)
		}
		if res, _ := v.Run("cat /run/cloud-init/result.json"); !strings.Contains(res, "DataSourceNoCloud") {
			t.Errorf("cloud-init did not use the NoCloud seed: %s", res)
		}
		state := systemState(t, v)
		t.Logf("%s with NoCloud seed: is-system-running %q after %s", suite, state, time.Since(start).Round(100*time.Millisecond))
		if wantHostKeys[string(v.HostKey().Marshal())] {
			t.Logf("host keys kept from the image")
		} else {
			t.Logf("cloud-init replaced the image's host keys (ssh_deletekeys)")
		}
		if err := v.Stop(); err != nil {
			t.Fatal(err)
		}
	})
}
