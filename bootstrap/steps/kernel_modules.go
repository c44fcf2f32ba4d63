package steps

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/hardbake/hardbake/bootstrap/profile"
)

// ModprobeBlockList keeps the profile's kernel.disable_modules from loading.
const ModprobeBlockList = "/etc/modprobe.d/hardbake-disable.conf"

// moduleRules are the SSG rules (CIS Level 1/2 Server, Debian 12 and 13)
// that want a module disabled, by module name.
var moduleRules = map[string]string{
	"cramfs":        "kernel_module_cramfs_disabled",
	"freevxfs":      "kernel_module_freevxfs_disabled",
	"hfs":           "kernel_module_hfs_disabled",
	"hfsplus":       "kernel_module_hfsplus_disabled",
	"jffs2":         "kernel_module_jffs2_disabled",
	"usb-storage":   "kernel_module_usb-storage_disabled",
	"dccp":          "kernel_module_dccp_disabled",
	"sctp":          "kernel_module_sctp_disabled",
	"rds":           "kernel_module_rds_disabled",
	"tipc":          "kernel_module_tipc_disabled",
	"atm":           "kernel_module_atm_disabled",
	"can":           "kernel_module_can_disabled",
	"firewire-core": "kernel_module_firewire-core_disabled",
	"udf":           "kernel_module_udf_disabled",
	"overlay":       "kernel_module_overlayfs_disabled",
}

// moduleRefs names the benchmark items blocking module m covers.
func moduleRefs(m string) []string {
	var refs []string
	for name, rule := range moduleRules {
		if profile.SameModule(name, m) {
			refs = append(refs, "ssg:"+rule)
		}
	}
	switch m {
	case "dccp", "sctp", "rds", "tipc":
		refs = append(refs, "lynis:NETW-3200")
	case "usb-storage", "usb_storage":
		refs = append(refs, "lynis:USB-1000")
	case "firewire-core", "firewire_core":
		refs = append(refs, "lynis:STRG-1846")
	}
	return refs
}

// modprobeBlockText renders the block list: an install command that fails
// (what CIS and SSG check: modprobe runs /bin/false instead of loading) and
// a blacklist line (no automatic loading by device alias either).
func modprobeBlockText(modules []string) string {
	var b strings.Builder
	b.WriteString("# Written by hardbake (kernel step) from the profile's kernel.disable_modules.\n" +
		"# modprobe runs /bin/false instead of loading these, and never loads them\n" +
		"# for a device alias.\n")
	for _, m := range modules {
		fmt.Fprintf(&b, "install %s /bin/false\nblacklist %s\n", m, m)
	}
	return b.String()
}

// fsModules are the modules a file system type needs besides the one of the
// same name.
var fsModules = map[string][]string{
	"vfat":    {"vfat", "fat"},
	"msdos":   {"msdos", "fat"},
	"iso9660": {"isofs"},
	"nfs4":    {"nfs", "nfsv4"},
	"ext2":    {"ext2", "ext4"}, // ext4 mounts ext2/3 when ext2 is not built
	"ext3":    {"ext3", "ext4"},
}

// mountUser is a module some mount needs, and which mount.
type mountUser struct{ Module, Why string }

// modulesOfFSType lists the modules mounting fstype needs.
func modulesOfFSType(fstype string) []string {
	if m, ok := fsModules[fstype]; ok {
		return m
	}
	if base, _, ok := strings.Cut(fstype, "."); ok { // fuse.sshfs, fuse.s3fs
		return []string{base}
	}
	return []string{fstype}
}

// mountTypes reads a mounts table (fstab or /proc/self/mounts): the file
// system type and mount point of each entry.
func mountTypes(text, source string) []mountUser {
	var out []mountUser
	for _, line := range strings.Split(text, "\n") {
		f := strings.Fields(line)
		if len(f) < 3 || strings.HasPrefix(f[0], "#") || f[2] == "swap" || f[2] == "none" {
			continue
		}
		for _, m := range modulesOfFSType(f[2]) {
			out = append(out, mountUser{Module: m, Why: fmt.Sprintf("%s mounts %s as %s", source, f[1], f[2])})
		}
	}
	return out
}

// modulesInUse are the modules the image needs to mount its file systems:
// the root's own file system, every fstab entry, and live the mounts that
// exist now.
func modulesInUse(env *Env) []mountUser {
	var out []mountUser
	fstab, _ := env.Root.ReadFile("/etc/fstab")
	out = append(out, mountTypes(string(fstab), "/etc/fstab")...)
	if env.Live() {
		mounts, _ := env.Root.ReadFile("/proc/self/mounts")
		out = append(out, mountTypes(string(mounts), "a live mount")...)
	} else if dir := env.Root.HostPath("/"); dir != "" {
		// The root's own file system: the host's mount table knows it
		// (the mount hardbake itself sees, not a file of the root).
		if t := hostFSType(dir); t != "" {
			for _, m := range modulesOfFSType(t) {
				out = append(out, mountUser{Module: m, Why: "the root " + dir + " is on " + t})
			}
		}
	}
	if env.Root.Exists("/boot/efi/EFI") {
		out = append(out, mountUser{Module: "vfat", Why: "the EFI system partition (/boot/efi) is FAT"}, mountUser{Module: "fat", Why: "the EFI system partition (/boot/efi) is FAT"})
	}
	return out
}

// hostFSType is the type of the host mount that holds dir: the longest
// mount point that is a prefix of it.
func hostFSType(dir string) string {
	data, err := os.ReadFile("/proc/self/mounts")
	if err != nil {
		return ""
	}
	dir, _ = filepath.EvalSymlinks(dir)
	best, typ := "", ""
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) < 3 {
			continue
		}
		mp := unescapeOctal(f[1])
		if (dir == mp || strings.HasPrefix(dir, strings.TrimSuffix(mp, "/")+"/")) && len(mp) >= len(best) {
			best, typ = mp, f[2]
		}
	}
	return typ
}

// unescapeOctal undoes the \040-style escapes of the mounts table.
func unescapeOctal(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			var n int
			if _, err := fmt.Sscanf(s[i+1:i+4], "%3o", &n); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// refuseMounted is an error naming each listed module some mount needs.
func refuseMounted(list []string, inUse []mountUser) error {
	var bad []string
	for _, m := range list {
		for _, u := range inUse {
			if profile.SameModule(m, u.Module) {
				bad = append(bad, fmt.Sprintf("%s (%s)", m, u.Why))
				break
			}
		}
	}
	if len(bad) == 0 {
		return nil
	}
	sort.Strings(bad)
	return fmt.Errorf("kernel.disable_modules would keep the image from mounting its file systems: %s; remove them from the list",
		strings.Join(bad, "; "))
}

// blockedByModprobe reads `modprobe -c` (kmod's own merge of every
// modprobe.d file): the modules whose install command is /bin/false or
// /bin/true.
func blockedByModprobe(showconfig string) map[string]bool {
	out := map[string]bool{}
	for _, line := range strings.Split(showconfig, "\n") {
		f := strings.Fields(line)
		if len(f) == 3 && f[0] == "install" && (f[2] == "/bin/false" || f[2] == "/bin/true") {
			out[strings.ReplaceAll(f[1], "-", "_")] = true
		}
	}
	return out
}
