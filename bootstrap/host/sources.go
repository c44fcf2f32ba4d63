package host

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"syscall"

	"github.com/hardbake/hardbake/bootstrap/root"
)

// File is where cloud-init write_files (or an admin) leaves host data.
const File = "/etc/hardbake/host.yaml"

// Sources are the places host data may come from; the first that has any wins.
type Sources struct {
	// Config is --config FILE: a path on the machine running hardbake.
	Config string
	// Root holds File.
	Root *root.Root
	// Seed reads the NoCloud seed (nil: no seed lookup). It returns a nil
	// *Seed when there is no seed device.
	Seed func() (*Seed, error)
}

// SeedHostFile is the file `hardbake seed` puts the host data in, beside
// user-data at the root of the seed volume. cloud-init never reads it; a
// hardbake: key inside #cloud-config user-data works too, but cloud-init
// ≥ 23.4 validates user-data against its schema, warns about the unknown
// key and reports its boot "degraded" (`cloud-init status --wait` exits 2).
const SeedHostFile = "hardbake.yaml"

// Seed is what a NoCloud seed volume offers firstboot.
type Seed struct {
	Source   string // "NoCloud seed /dev/sr0"
	HostData []byte // SeedHostFile's contents; nil when the volume has none
	UserData []byte // user-data; nil when the volume has none
}

// Found is host data and where it came from.
type Found struct {
	Host *Host
	// Kind is "config" (--config), "file" (File) or "seed".
	Kind   string
	Source string
	// HostPath is the file to delete after success ("" for a read-only seed).
	HostPath string
}

// Find returns the first host data found, validated against t, or nil when
// there is none anywhere. Bad data is an error (bootstrap.ErrInvalid): a
// later source is never tried instead of a broken earlier one.
func Find(s Sources, t *Target) (*Found, error) {
	if s.Config != "" {
		data, err := readSecure(s.Config)
		if err != nil {
			return nil, errorf("--config "+s.Config, "%v", err)
		}
		h, err := Decode(data, s.Config, t)
		if err != nil {
			return nil, err
		}
		abs, _ := filepath.Abs(s.Config)
		return &Found{Host: h, Kind: "config", Source: s.Config, HostPath: abs}, nil
	}
	if s.Root != nil {
		hp, err := inRootPath(s.Root, File)
		if err != nil {
			return nil, errorf(File, "%v", err)
		}
		data, err := readSecure(hp)
		switch {
		case errors.Is(err, fs.ErrNotExist):
		case err != nil:
			return nil, errorf(File, "%v", err)
		default:
			h, err := Decode(data, File, t)
			if err != nil {
				return nil, err
			}
			return &Found{Host: h, Kind: "file", Source: File, HostPath: hp}, nil
		}
	}
	if s.Seed != nil {
		sd, err := s.Seed()
		if err != nil || sd == nil {
			return nil, err
		}
		if sd.HostData != nil {
			source := sd.Source + " " + SeedHostFile
			h, err := Decode(sd.HostData, source, t)
			if err != nil {
				return nil, err
			}
			return &Found{Host: h, Kind: "seed", Source: source}, nil
		}
		if sd.UserData == nil {
			return nil, nil
		}
		source := sd.Source + " user-data"
		h, err := FromUserData(sd.UserData, source, t)
		if err != nil || h == nil {
			return nil, err
		}
		return &Found{Host: h, Kind: "seed", Source: source}, nil
	}
	return nil, nil
}

// inRootPath resolves p's directory inside the root (symlinks and all) but
// not its last component, which readSecure opens with O_NOFOLLOW.
func inRootPath(r *root.Root, p string) (string, error) {
	dir, err := r.Resolve(path.Dir(p))
	if err != nil {
		return "", err
	}
	return r.HostPath(path.Join(dir, path.Base(p))), nil
}

// readSecure reads a host data file that only root may have written: a
// regular file (not a symlink, FIFO or device), owned by uid 0, not writable
// by group or others. Anyone who could write it could make themselves admin.
func readSecure(file string) ([]byte, error) {
	f, err := os.OpenFile(file, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0)
	if err != nil {
		if errors.Is(err, syscall.ELOOP) {
			return nil, fmt.Errorf("is a symbolic link; host data must be a regular file")
		}
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("is not a regular file (%s)", fi.Mode().Type())
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return nil, fmt.Errorf("cannot read its owner")
	}
	if st.Uid != 0 {
		return nil, fmt.Errorf("is owned by uid %d, not root: refused (chown root:root)", st.Uid)
	}
	if fi.Mode().Perm()&0o022 != 0 {
		return nil, fmt.Errorf("is writable by group or others (mode %04o): refused (chmod 600)", fi.Mode().Perm())
	}
	if fi.Size() > MaxSize {
		return nil, fmt.Errorf("is %d bytes; host data is at most %d", fi.Size(), MaxSize)
	}
	return io.ReadAll(io.LimitReader(f, MaxSize+1))
}
