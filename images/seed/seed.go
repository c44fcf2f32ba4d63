package seed

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/diskfs/go-diskfs/backend/file"
	"github.com/diskfs/go-diskfs/filesystem"
	"github.com/diskfs/go-diskfs/filesystem/fat32"
	"github.com/diskfs/go-diskfs/filesystem/iso9660"

	"github.com/hardbake/hardbake/bootstrap/host"
)

// Formats of a seed image.
const (
	FormatISO  = "iso"
	FormatVFAT = "vfat"
)

// Labels cloud-init's NoCloud datasource looks for (ds-identify accepts both
// cases; these are what cloud-localds writes).
const (
	ISOLabel  = "cidata"
	VFATLabel = "CIDATA"
)

// FATSize is the size of a FAT32 seed. go-diskfs v1.9.4 writes a FAT32 that
// fsck.vfat rejects below about 33 MiB and at 64 and 129 MiB; 33 MiB is
// checked clean by a test. (cloud-localds makes a 2 MiB FAT12 instead.)
const FATSize = 33 << 20

// isoWorkSize is only the backing size go-diskfs wants when the ISO is
// created; Finalize writes the real, much smaller image.
const isoWorkSize = 4 << 20

// File names on the seed, as the NoCloud datasource reads them.
const (
	UserDataName      = "user-data"
	MetaDataName      = "meta-data"
	NetworkConfigName = "network-config"
)

// Contents are the files of a seed.
type Contents struct {
	UserData      []byte
	MetaData      []byte
	NetworkConfig []byte // nil: no network-config file
	HostData      []byte // host.SeedHostFile; nil: none
}

func (c Contents) files() []struct {
	name string
	data []byte
} {
	out := []struct {
		name string
		data []byte
	}{{UserDataName, c.UserData}, {MetaDataName, c.MetaData}}
	if c.NetworkConfig != nil {
		out = append(out, struct {
			name string
			data []byte
		}{NetworkConfigName, c.NetworkConfig})
	}
	if c.HostData != nil {
		out = append(out, struct {
			name string
			data []byte
		}{host.SeedHostFile, c.HostData})
	}
	return out
}

// Write writes the seed image to out in format (FormatISO or FormatVFAT).
// The image is built in a temporary file beside out and renamed into place,
// so a failure never leaves a half-written seed behind.
func Write(out, format string, c Contents) error {
	if format != FormatISO && format != FormatVFAT {
		return fmt.Errorf("unknown seed format %q (iso or vfat)", format)
	}
	dir := filepath.Dir(out)
	tmpDir, err := os.MkdirTemp(dir, ".hardbake-seed-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmpDir)
	tmp := filepath.Join(tmpDir, "seed.img")
	switch format {
	case FormatISO:
		err = writeISO(tmp, tmpDir, c)
	default:
		err = writeVFAT(tmp, c)
	}
	if err != nil {
		return err
	}
	if err := os.Chmod(tmp, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, out)
}

// writeISO and writeVFAT call go-diskfs's file-system packages directly,
// as images/cidata reads them: its disk package would link every file
// system it knows into hardbake (see cidata's openVolume).
func writeISO(name, workParent string, c Contents) error {
	b, err := file.CreateFromPath(name, isoWorkSize)
	if err != nil {
		return err
	}
	defer b.Close()
	work, err := os.MkdirTemp(workParent, "iso-")
	if err != nil {
		return err
	}
	// ISO 9660 logical blocks are 2048 bytes.
	iso, err := iso9660.Create(b, isoWorkSize, 0, 2048, work)
	if err != nil {
		return fmt.Errorf("creating ISO 9660: %w", err)
	}
	if err := writeFiles(iso, c); err != nil {
		return err
	}
	// The label only takes effect here; Rock Ridge and Joliet keep the
	// lower-case names cloud-init looks for.
	if err := iso.Finalize(iso9660.FinalizeOptions{VolumeIdentifier: ISOLabel, RockRidge: true, Joliet: true}); err != nil {
		return fmt.Errorf("finalizing ISO 9660: %w", err)
	}
	return trimISO(b, name)
}

// trimISO cuts the file to the volume size the primary volume descriptor
// records: go-diskfs leaves the whole backing size it was created with.
func trimISO(b interface {
	ReadAt([]byte, int64) (int, error)
}, file string) error {
	pvd := make([]byte, 2048)
	if _, err := b.ReadAt(pvd, 16*2048); err != nil {
		return fmt.Errorf("reading the ISO volume descriptor: %w", err)
	}
	if pvd[0] != 1 || string(pvd[1:6]) != "CD001" {
		return errors.New("go-diskfs wrote no ISO 9660 primary volume descriptor")
	}
	blocks := binary.LittleEndian.Uint32(pvd[80:84])
	size := int64(binary.LittleEndian.Uint16(pvd[128:130])) * int64(blocks)
	if size <= 16*2048 || size > isoWorkSize {
		return fmt.Errorf("ISO 9660 volume size %d is out of range", size)
	}
	return os.Truncate(file, size)
}

func writeVFAT(name string, c Contents) error {
	b, err := file.CreateFromPath(name, FATSize)
	if err != nil {
		return err
	}
	defer b.Close()
	fsys, err := fat32.Create(b, FATSize, 0, 512, VFATLabel, false)
	if err != nil {
		return fmt.Errorf("creating FAT32: %w", err)
	}
	return writeFiles(fsys, c)
}

// writeFiles puts the files in the volume's root directory (no Mkdir: see
// the package comment).
func writeFiles(fsys filesystem.FileSystem, c Contents) error {
	for _, f := range c.files() {
		fh, err := fsys.OpenFile("/"+f.name, os.O_CREATE|os.O_RDWR)
		if err != nil {
			return fmt.Errorf("seed %s: %w", f.name, err)
		}
		if _, err := fh.Write(f.data); err != nil {
			fh.Close()
			return fmt.Errorf("seed %s: %w", f.name, err)
		}
		if err := fh.Close(); err != nil {
			return fmt.Errorf("seed %s: %w", f.name, err)
		}
	}
	return nil
}
