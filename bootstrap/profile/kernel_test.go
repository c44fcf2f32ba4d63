package profile

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/hardbake/hardbake/bootstrap"
)

func TestKernelDefaults(t *testing.T) {
	k := Default().Kernel
	if k.IPForward || !k.IPv6RouterAdvertisements || k.CoreDumps {
		t.Errorf("defaults: %+v", k)
	}
	// Never by default: Azure's provisioning disc, the EFI partition,
	// snaps, container storage.
	for _, m := range []string{"udf", "vfat", "fat", "squashfs", "overlay", "isofs"} {
		if slices.Contains(k.DisableModules, m) {
			t.Errorf("%s is blocked by default", m)
		}
	}
	for _, m := range []string{"cramfs", "usb-storage", "dccp", "sctp", "rds", "tipc", "firewire-core"} {
		if !slices.Contains(k.DisableModules, m) {
			t.Errorf("%s is not blocked by default", m)
		}
	}
}

func TestBadKernelValues(t *testing.T) {
	for _, c := range []struct{ name, yaml, want string }{
		{"bad name", "kernel:\n  disable_modules: [cramfs, \"Bad Module\"]\n",
			`kernel.disable_modules[1] (line 2): "Bad Module" is not a kernel module name`},
		{"path", "kernel:\n  disable_modules:\n    - /lib/modules/x.ko\n",
			`kernel.disable_modules[0] (line 3): "/lib/modules/x.ko" is not a kernel module name`},
		// modprobe takes usb-storage and usb_storage for one module.
		{"twice", "kernel:\n  disable_modules:\n    - usb-storage\n    - usb_storage\n",
			`kernel.disable_modules[1] (line 4): "usb_storage" is listed twice`},
		{"not a bool", "kernel:\n  ip_forward: maybe\n", `kernel.ip_forward (line 2)`},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse([]byte(c.yaml))
			if !errors.Is(err, bootstrap.ErrInvalid) || !strings.Contains(err.Error(), c.want) {
				t.Errorf("got %v, want %q", err, c.want)
			}
		})
	}
	if _, err := Parse([]byte("kernel:\n  disable_modules: []\n  ip_forward: true\n")); err != nil {
		t.Errorf("an empty list and forwarding: %v", err)
	}
}
