package vm

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// MakeSeedISO writes a cloud-init NoCloud seed to out: an ISO 9660 image with
// volume id "cidata" (how ds-identify and the NoCloud datasource find it) and
// Rock Ridge + Joliet names (without them the files are USER_DAT.;1), made with
//
//	genisoimage -output OUT -volid cidata -joliet -rock user-data meta-data [network-config]
//
// metaData may be empty (an instance-id is filled in); networkConfig is
// left out when empty. Pass out as Options.Seed: Boot attaches it as a second,
// read-only virtio disk.
func MakeSeedISO(out, userData, metaData, networkConfig string) error {
	gen, err := exec.LookPath("genisoimage")
	if err != nil {
		return fmt.Errorf("vm: genisoimage not found (make deps installs it; apt-get install genisoimage)")
	}
	dir, err := os.MkdirTemp("", "hardbake-seed-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	if metaData == "" {
		metaData = "instance-id: hardbake-vm\nlocal-hostname: hardbake-vm\n"
	}
	files := []string{"user-data", "meta-data"}
	contents := []string{userData, metaData}
	if networkConfig != "" {
		files = append(files, "network-config")
		contents = append(contents, networkConfig)
	}
	for i, name := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(contents[i]), 0o644); err != nil {
			return err
		}
	}
	abs, err := filepath.Abs(out)
	if err != nil {
		return err
	}
	args := append([]string{"-quiet", "-output", abs, "-volid", "cidata", "-joliet", "-rock"}, files...)
	cmd := exec.Command(gen, args...)
	cmd.Dir = dir
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("vm: genisoimage: %v\n%s", err, b)
	}
	return nil
}
