package diskimage

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func needTools(t testing.TB, tools ...string) {
	t.Helper()
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			if _, err := os.Stat("/usr/sbin/" + tool); err != nil {
				t.Skipf("%s not installed (make deps installs it)", tool)
			}
		}
	}
}

func sh(t testing.TB, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// MkfsTree makes an ext4 image of dir with `mkfs.ext4 -d` (e2fsprogs'
// defaults: metadata_csum, extents; 1 KiB blocks below 512 MiB).
func MkfsTree(t testing.TB, dir, out string, sizeMiB int, opts ...string) string {
	t.Helper()
	needTools(t, "mkfs.ext4")
	if err := os.Truncate(out, 0); err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	f, err := os.Create(out)
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	if err := os.Truncate(out, int64(sizeMiB)<<20); err != nil {
		t.Fatal(err)
	}
	args := []string{"-q", "-F"}
	if !slices.Contains(opts, "-t") {
		args = append(args, "-t", "ext4")
	}
	args = append(args, opts...)
	sh(t, "mkfs.ext4", append(args, "-d", dir, out)...)
	return out
}

// rootStart is where the root partition starts in Partitioned's images.
const rootStart = 4096 * 512

// Partitioned puts fsImg into a new disk image with a partition table:
// GPT (partition 1: a 1 MiB EFI-typed partition left empty; partition 2:
// the root) with sgdisk, or MBR (partition 1: the root) with sfdisk. The
// filesystem is copied to its partition's offset with dd.
func Partitioned(t testing.TB, fsImg, table, out string) (rootPart int) {
	t.Helper()
	fi, err := os.Stat(fsImg)
	if err != nil {
		t.Fatal(err)
	}
	sectors := fi.Size() / 512
	f, err := os.Create(out)
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	// Room for the table, the EFI partition and the backup GPT.
	if err := os.Truncate(out, rootStart+fi.Size()+1<<20); err != nil {
		t.Fatal(err)
	}
	switch table {
	case TableGPT:
		needTools(t, "sgdisk")
		// Not -q: sgdisk -q writes nothing to an image file.
		sh(t, "sgdisk", "-n", "1:2048:4095", "-t", "1:ef00", "-n", fmt.Sprintf("2:4096:%d", 4096+sectors-1), "-t", "2:8300", out)
		rootPart = 2
	case TableMBR:
		needTools(t, "sfdisk")
		cmd := exec.Command("sfdisk", "-q", out)
		cmd.Stdin = strings.NewReader(fmt.Sprintf("label: dos\n4096,%d,83\n", sectors))
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("sfdisk: %v\n%s", err, b)
		}
		rootPart = 1
	default:
		t.Fatalf("table %q", table)
	}
	sh(t, "dd", "if="+fsImg, "of="+out, "bs=1M", fmt.Sprintf("seek=%d", rootStart), "oflag=seek_bytes", "conv=notrunc,sparse", "status=none")
	return rootPart
}

// smallTree is a minimal root: os-release (a relative symlink, as on
// Debian), sshd config with an absolute-symlinked drop-in, an enabled unit.
func smallTree(t testing.TB) string {
	t.Helper()
	dir := t.TempDir()
	files := map[string]string{
		"usr/lib/os-release":                   "ID=debian\nVERSION_ID=\"12\"\nVERSION_CODENAME=bookworm\n",
		"etc/ssh/sshd_config":                  "Include /etc/ssh/sshd_config.d/*.conf\nPasswordAuthentication yes\n",
		"srv/dropins/10-hardening.conf":        "PasswordAuthentication no\n",
		"lib/systemd/system/nftables.service":  "[Unit]\n",
		"etc/machine-id":                       "",
		"etc/passwd":                           "root:x:0:0:root:/root:/bin/bash\n",
		"home/alice/.ssh/authorized_keys":      "ssh-ed25519 AAAA alice\n",
		"etc/systemd/system/placeholder/.keep": "",
	}
	for name, text := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	links := map[string]string{
		"etc/os-release":                          "../usr/lib/os-release",
		"etc/ssh/sshd_config.d":                   "/srv/dropins",
		"etc/systemd/system/sysinit.target.wants": "/srv/wants",
		"srv/wants":                               "../lib/systemd/system",
	}
	for name, target := range links {
		if err := os.Symlink(target, filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}
