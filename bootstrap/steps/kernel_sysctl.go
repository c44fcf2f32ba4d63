package steps

import (
	"fmt"
	"path"
	"strings"

	"github.com/hardbake/hardbake/bootstrap/distro"
	"github.com/hardbake/hardbake/bootstrap/profile"
	"github.com/hardbake/hardbake/bootstrap/root"
)

// SysctlDropIn holds the kernel step's sysctl settings. Its name sorts after
// every distribution and cloud file (Debian's 99-sysctl.conf, Ubuntu's
// 99-cloudimg-*.conf), so its values win at boot.
const SysctlDropIn = "/etc/sysctl.d/99-zz-hardbake.conf"

// sysctlSetting is one value the drop-in writes.
type sysctlSetting struct {
	Key, Value string
	Why        string
	Refs       []string
}

// ssgRefs prefixes SSG rule ids.
func ssgRefs(rules ...string) []string {
	out := make([]string, len(rules))
	for i, r := range rules {
		out[i] = "ssg:" + r
	}
	return out
}

// sysctlRule is SSG's rule id for a key: sysctl_ + the key with dots as
// underscores.
func sysctlRule(key string) string {
	return "sysctl_" + strings.NewReplacer(".", "_", "-", "_").Replace(key)
}

// bothConf yields net.<proto>.conf.all.<name> and .default.<name>: "all"
// changes every interface that exists, "default" the ones made later.
func bothConf(proto, name, value, why string) []sysctlSetting {
	var out []sysctlSetting
	for _, scope := range []string{"all", "default"} {
		k := "net." + proto + ".conf." + scope + "." + name
		out = append(out, sysctlSetting{Key: k, Value: value, Why: why, Refs: append(ssgRefs(sysctlRule(k)), "lynis:KRNL-6000")})
	}
	return out
}

// everyInterface is a glob over each interface's own value. The kernel
// accepts (and sends) redirects on an interface when either its own value
// or "all" says so, and an interface that existed before systemd-sysctl ran
// (the boot NIC) keeps the old default: only the glob, which systemd-sysctl
// also applies to interfaces that appear later, turns it off there.
func everyInterface(proto, name, value string) sysctlSetting {
	return sysctlSetting{Key: "net." + proto + ".conf.*." + name, Value: value,
		Why: "the same on every interface (the kernel ORs it with \"all\")"}
}

// kernelSysctl is what the drop-in sets for the profile, in file order.
func kernelSysctl(k profile.Kernel) []sysctlSetting {
	var s []sysctlSetting
	add := func(key, value, why string, lynis ...string) {
		s = append(s, sysctlSetting{Key: key, Value: value, Why: why, Refs: append(ssgRefs(sysctlRule(key)), lynis...)})
	}
	add("kernel.randomize_va_space", "2", "randomise stack, heap, mmap and brk addresses", "lynis:KRNL-6000")
	add("kernel.kptr_restrict", "1", "hide kernel pointers from users", "lynis:KRNL-6000")
	add("kernel.dmesg_restrict", "1", "kernel log for root only", "lynis:KRNL-6000")
	add("kernel.yama.ptrace_scope", "1", "ptrace only of one's own descendants", "lynis:KRNL-6000")
	add("kernel.unprivileged_bpf_disabled", "1", "no BPF for unprivileged users (1 keeps it so until reboot)", "lynis:KRNL-6000")
	add("net.core.bpf_jit_harden", "2", "harden the BPF JIT for every user", "lynis:KRNL-6000")
	add("fs.protected_hardlinks", "1", "no hard links to files one does not own", "lynis:KRNL-6000")
	add("fs.protected_symlinks", "1", "no following others' symlinks in sticky directories", "lynis:KRNL-6000")
	add("fs.protected_fifos", "2", "no opening others' FIFOs in sticky directories", "lynis:KRNL-6000")
	add("fs.protected_regular", "2", "no opening others' files in sticky directories", "lynis:KRNL-6000")
	// Not CIS, Lynis's list (KRNL-6000); neither changes what a server does.
	s = append(s,
		sysctlSetting{Key: "kernel.core_uses_pid", Value: "1", Why: "core file names carry the PID", Refs: []string{"lynis:KRNL-6000"}},
		sysctlSetting{Key: "dev.tty.ldisc_autoload", Value: "0", Why: "users cannot make the kernel load TTY line disciplines", Refs: []string{"lynis:KRNL-6000"}})
	if !k.CoreDumps {
		add("fs.suid_dumpable", "0", "no core dumps of set-user-ID programs", "lynis:KRNL-5820")
	}
	if !k.IPForward {
		add("net.ipv4.ip_forward", "0", "the host does not route", "lynis:KRNL-6000")
		s = append(s, bothConf("ipv4", "forwarding", "0", "the host does not route")...)
		s = append(s, bothConf("ipv6", "forwarding", "0", "the host does not route")...)
	}
	for _, proto := range []string{"ipv4", "ipv6"} {
		s = append(s, bothConf(proto, "accept_redirects", "0", "ICMP redirects would let others change our routes")...)
		s = append(s, everyInterface(proto, "accept_redirects", "0"))
		s = append(s, bothConf(proto, "accept_source_route", "0", "no source-routed packets")...)
	}
	s = append(s, bothConf("ipv4", "secure_redirects", "0", "not even redirects from our gateways")...)
	s = append(s, everyInterface("ipv4", "secure_redirects", "0"))
	s = append(s, bothConf("ipv4", "send_redirects", "0", "a host is not a router")...)
	s = append(s, everyInterface("ipv4", "send_redirects", "0"))
	s = append(s, bothConf("ipv4", "rp_filter", "1", "drop packets whose source would not be routed back out the same interface")...)
	s = append(s, bothConf("ipv4", "log_martians", "1", "log packets with impossible addresses")...)
	add("net.ipv4.icmp_echo_ignore_broadcasts", "1", "no smurf amplification", "lynis:KRNL-6000")
	add("net.ipv4.icmp_ignore_bogus_error_responses", "1", "ignore bogus ICMP errors", "lynis:KRNL-6000")
	add("net.ipv4.tcp_syncookies", "1", "survive SYN floods", "lynis:KRNL-6000")
	if !k.IPv6RouterAdvertisements {
		s = append(s, bothConf("ipv6", "accept_ra", "0", "IPv6 address and route are static")...)
	}
	return s
}

// sysctlDropInText renders the drop-in.
func sysctlDropInText(settings []sysctlSetting) string {
	var b strings.Builder
	b.WriteString("# Written by hardbake (kernel step); edit the profile's kernel section, not\n" +
		"# this file. Named to be read after the distribution's and cloud's files:\n" +
		"# systemd-sysctl applies files sorted by name, later values win.\n")
	why := ""
	for _, s := range settings {
		if s.Why != why {
			fmt.Fprintf(&b, "\n# %s\n", s.Why)
			why = s.Why
		}
		fmt.Fprintf(&b, "%s = %s\n", s.Key, s.Value)
	}
	return b.String()
}

// sysctlDirs are the directories systemd-sysctl reads, in priority order
// for files of the same name. /lib/sysctl.d is read where /lib is not /usr/lib
// (split /usr); on merged /usr it is the same directory and its names are
// already taken.
var sysctlDirs = []string{"/etc/sysctl.d", "/run/sysctl.d", "/usr/local/lib/sysctl.d", "/usr/lib/sysctl.d", "/lib/sysctl.d"}

// readSysctlFiles reads every *.conf of the sysctl directories, each
// directory's files sorted by name, and /etc/sysctl.conf. A directory
// reached twice (the /lib -> usr/lib link) is read once.
func readSysctlFiles(r *root.Root) (dirs [][]sysctlFile, conf *sysctlFile, err error) {
	seen := map[string]bool{}
	for _, d := range sysctlDirs {
		real, err := r.Resolve(d)
		if err != nil {
			return nil, nil, err
		}
		if seen[real] {
			continue
		}
		seen[real] = true
		entries, err := r.ReadDir(d)
		if err != nil {
			if isNotExist(err) {
				continue
			}
			return nil, nil, err
		}
		var files []sysctlFile
		for _, e := range entries {
			if !strings.HasSuffix(e.Name(), ".conf") {
				continue
			}
			p := path.Join(d, e.Name())
			f := sysctlFile{Name: e.Name(), Path: p}
			if target, err := r.Resolve(p); err == nil && target == "/dev/null" {
				f.Masked = true
			} else if f.Text, err = readText(r, p); err != nil {
				return nil, nil, err
			}
			files = append(files, f)
		}
		dirs = append(dirs, files)
	}
	if text, err := readText(r, "/etc/sysctl.conf"); err != nil {
		return nil, nil, err
	} else if r.Exists("/etc/sysctl.conf") {
		conf = &sysctlFile{Name: "sysctl.conf", Path: "/etc/sysctl.conf", Text: text}
	}
	return dirs, conf, nil
}

// readText reads a file; a missing file is empty.
func readText(r *root.Root, p string) (string, error) {
	data, err := r.ReadFile(p)
	if err != nil && !isNotExist(err) {
		return "", err
	}
	return string(data), nil
}

// bootSysctl is what the machine applies at boot: systemd-sysctl's merge;
// without systemd, procps' `sysctl --system` (Debian's procps init script),
// which also reads /etc/sysctl.conf last.
type bootSysctl struct {
	// All is every file read, for the scanner's view.
	All []sysctlFile
	sysctlConfig
}

func loadSysctl(r *root.Root, d distro.Info) (bootSysctl, error) {
	dirs, conf, err := readSysctlFiles(r)
	if err != nil {
		return bootSysctl{}, err
	}
	var last *sysctlFile
	if conf != nil && d.ServiceManager != distro.Systemd {
		last = conf
	}
	var all []sysctlFile
	for _, files := range dirs {
		all = append(all, files...)
	}
	if conf != nil {
		all = append(all, *conf)
	}
	return bootSysctl{All: all, sysctlConfig: newSysctlConfig(mergeSysctlFiles(dirs, last))}, nil
}
