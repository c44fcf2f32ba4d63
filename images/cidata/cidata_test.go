package cidata

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

const (
	userData = "#cloud-config\nhardbake:\n  hostname: seeded\n"
	hostData = "hostname: from-file\n"
)

// seedImages builds seeds the way real tools do: genisoimage (what
// cloud-localds and internal/vm use) and mkfs.vfat + mcopy, FAT12 and FAT32.
func seedImages(t *testing.T) map[string]string {
	t.Helper()
	for _, tool := range []string{"genisoimage", "mkfs.vfat", "mcopy"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed (make deps)", tool)
		}
	}
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "user-data"), []byte(userData), 0o644)
	os.WriteFile(filepath.Join(dir, "meta-data"), []byte("instance-id: test\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "hardbake.yaml"), []byte(hostData), 0o644)
	run := func(args ...string) {
		t.Helper()
		c := exec.Command(args[0], args[1:]...)
		c.Dir = dir
		if out, err := c.CombinedOutput(); err != nil {
			t.Fatalf("%v: %v\n%s", args, err, out)
		}
	}
	run("genisoimage", "-quiet", "-output", "seed.iso", "-volid", "cidata", "-joliet", "-rock", "user-data", "meta-data")
	run("genisoimage", "-quiet", "-output", "hostfile.iso", "-volid", "cidata", "-joliet", "-rock", "hardbake.yaml", "meta-data")
	run("genisoimage", "-quiet", "-output", "other.iso", "-volid", "config-2", "-joliet", "-rock", "user-data")
	run("mkfs.vfat", "-C", "-n", "CIDATA", "fat12.img", "2048")
	run("mcopy", "-i", "fat12.img", "user-data", "meta-data", "::/")
	run("mkfs.vfat", "-F", "32", "-C", "-n", "CIDATA", "fat32.img", "40000")
	run("mcopy", "-i", "fat32.img", "user-data", "meta-data", "hardbake.yaml", "::/")
	return map[string]string{
		"iso": filepath.Join(dir, "seed.iso"), "other": filepath.Join(dir, "other.iso"),
		"fat12": filepath.Join(dir, "fat12.img"), "fat32": filepath.Join(dir, "fat32.img"),
		"hostfile": filepath.Join(dir, "hostfile.iso"),
	}
}

// TestReadSeed: user-data and hardbake seed's host data file, each read
// when present, from ISO 9660 and FAT volumes made by the usual tools.
func TestReadSeed(t *testing.T) {
	imgs := seedImages(t)
	for name, want := range map[string][2]string{
		"iso": {"", userData}, "fat12": {"", userData}, "fat32": {hostData, userData}, "hostfile": {hostData, ""},
	} {
		f, _ := os.Open(imgs[name])
		label := Label(f)
		f.Close()
		if !isSeedLabel(label) {
			t.Errorf("%s: label %q", name, label)
		}
		s, err := ReadSeed(imgs[name])
		if err != nil || string(s.HostData) != want[0] || string(s.UserData) != want[1] || (want[0] == "") != (s.HostData == nil) {
			t.Errorf("%s: %+v %v", name, s, err)
		}
	}
	if _, err := ReadSeed(imgs["other"]); err == nil || !strings.Contains(err.Error(), `volume label "config-2" is not cidata`) {
		t.Errorf("other label: %v", err)
	}
	junk := filepath.Join(t.TempDir(), "junk")
	os.WriteFile(junk, []byte(strings.Repeat("x", 70000)), 0o644)
	if _, err := ReadSeed(junk); err == nil {
		t.Error("junk accepted")
	}
}

// Find scans a fake /sys/class/block and /dev: no udev, no blkid.
func TestFind(t *testing.T) {
	imgs := seedImages(t)
	root := t.TempDir()
	dev, sys := filepath.Join(root, "dev"), filepath.Join(root, "sys")
	add := func(name, image string, sectors string) {
		os.MkdirAll(filepath.Join(sys, "class/block", name), 0o755)
		os.WriteFile(filepath.Join(sys, "class/block", name, "size"), []byte(sectors+"\n"), 0o644)
		os.MkdirAll(dev, 0o755)
		if image != "" {
			data, _ := os.ReadFile(image)
			os.WriteFile(filepath.Join(dev, name), data, 0o644)
		}
	}
	add("loop0", "", "0")
	add("sr0", "", "100") // no medium: cannot be opened
	add("vda", imgs["other"], "800")
	if got, err := Find(dev, sys); got != "" || err != nil {
		t.Fatalf("no seed: %q %v", got, err)
	}
	add("vdb", imgs["fat12"], "4096")
	got, err := Find(dev, sys)
	if err != nil || got != filepath.Join(dev, "vdb") {
		t.Fatalf("got %q %v", got, err)
	}
	seed, err := lookup(dev, sys)
	if err != nil || string(seed.UserData) != userData || !strings.Contains(seed.Source, "vdb") {
		t.Fatalf("lookup: %+v %v", seed, err)
	}
	// udev's by-label link wins when it exists.
	os.MkdirAll(filepath.Join(dev, "disk/by-label"), 0o755)
	os.Symlink(imgs["iso"], filepath.Join(dev, "disk/by-label/cidata"))
	if got, _ := Find(dev, sys); got != filepath.Join(dev, "disk/by-label/cidata") {
		t.Fatalf("by-label: %q", got)
	}
	if got, err := Find(filepath.Join(root, "nodev"), filepath.Join(root, "nosys")); got != "" || err != nil {
		t.Fatalf("no /sys: %q %v", got, err)
	}
}

// TestReadSeedBlockDevice reads the seeds through loop block devices,
// as firstboot sees a seed attached to a VM. go-diskfs takes the block size
// of a block device from the device (512), which ISO 9660 refuses: the e2e
// boot's firstboot failed with "unknown filesystem type" on /dev/vdb while
// the same ISO file read fine.
func TestReadSeedBlockDevice(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("losetup needs root")
	}
	imgs := seedImages(t)
	for _, name := range []string{"iso", "fat32"} {
		out, err := exec.Command("losetup", "--find", "--show", "--read-only", imgs[name]).Output()
		if err != nil {
			t.Skipf("losetup: %v (no loop devices here?)", err)
		}
		dev := strings.TrimSpace(string(out))
		t.Cleanup(func() { exec.Command("losetup", "-d", dev).Run() })
		s, err := ReadSeed(dev)
		if err != nil || string(s.UserData) != userData {
			t.Errorf("%s via %s: %+v %v", name, dev, s, err)
		}
	}
}
