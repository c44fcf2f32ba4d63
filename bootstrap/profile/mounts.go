package profile

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// Mounts configures the mounts step: /tmp and /dev/shm mounted without
// device files, setuid programs or executables, from the image's next boot.
type Mounts struct {
	Tmp    Mount `yaml:"tmp"`
	DevShm Mount `yaml:"dev_shm"`
}

// Mount is one mount point's settings.
type Mount struct {
	// Enabled: hardbake configures the mount point in /etc/fstab.
	Enabled bool `yaml:"enabled"`
	// Options are the restricting options it must carry.
	Options []string `yaml:"options"`
	// Size of a tmpfs hardbake adds ("" leaves the kernel's default, half
	// the memory): bytes with an optional k/m/g suffix, or a percentage of
	// the memory.
	Size string `yaml:"size"`
}

// MountOptions are the options mounts.*.options accepts.
var MountOptions = []string{"nodev", "nosuid", "noexec"}

// tmpfsSize is what tmpfs(5) accepts for size=: a number with an optional
// k, m, g (either case) suffix, or a percentage of the memory.
var tmpfsSize = regexp.MustCompile(`^[1-9][0-9]*([kKmMgG%])?$`)

func (v *validator) mounts(c *Mounts) {
	v.mount("mounts.tmp", &c.Tmp)
	v.mount("mounts.dev_shm", &c.DevShm)
}

func (v *validator) mount(field string, m *Mount) {
	for i, o := range m.Options {
		path := fmt.Sprintf("%s.options[%d]", field, i)
		switch {
		case !slices.Contains(MountOptions, o):
			v.add(path, "%q is not one of %s", o, strings.Join(MountOptions, ", "))
		case slices.Index(m.Options, o) < i:
			v.add(path, "%q is listed twice", o)
		}
	}
	if m.Size == "" {
		return
	}
	if !tmpfsSize.MatchString(m.Size) {
		v.add(field+".size", "%q is not a tmpfs size: a number of bytes with an optional k, m or g suffix (512m, 2g), or a percentage of the memory (50%%)", m.Size)
	} else if pct, ok := strings.CutSuffix(m.Size, "%"); ok {
		if n, _ := strconv.Atoi(pct); n > 100 {
			v.add(field+".size", "%q is more than the whole memory (at most 100%%)", m.Size)
		}
	}
}
