// Package distro keeps every per-distribution fact in one table (Ignition's
// distro file): package manager, admin group, ssh unit, automatic-update
// mechanism, firewall backend. Steps ask the table; they never branch on IDs.
package distro

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// Family is a group of distributions that share the facts below.
type Family string

// Supported families.
const (
	Debian Family = "debian"
	Ubuntu Family = "ubuntu"
	Fedora Family = "fedora"
	RHEL   Family = "rhel" // CentOS (Stream), RHEL, Rocky, Alma
	Arch   Family = "arch"
)

// ServiceManager is the init system in the root.
type ServiceManager string

// Known service managers.
const (
	Systemd ServiceManager = "systemd"
	SysV    ServiceManager = "sysv"
	OpenRC  ServiceManager = "openrc"
)

// Automatic-update mechanisms (Info.AutoUpdates).
const (
	UnattendedUpgrades = "unattended-upgrades" // apt's, driven by apt-daily timers
	DNFAutomatic       = "dnf-automatic"       // dnf's (dnf5's plugin on Fedora >= 41)
)

// Info is what hardbake knows about the target system.
type Info struct {
	OSRelease
	Family         Family         `json:"family"`
	PackageManager string         `json:"package_manager"` // apt, dnf, pacman: a key of the package-manager table (Packages)
	AdminGroup     string         `json:"admin_group"`     // sudo or wheel
	SSHService     string         `json:"ssh_service"`     // ssh or sshd
	SSHSocket      string         `json:"ssh_socket,omitempty"`
	SSHPackage     string         `json:"ssh_package"`
	AutoUpdates    string         `json:"auto_updates"` // UnattendedUpgrades, DNFAutomatic, or "" (none exists)
	Firewall       string         `json:"firewall"`     // default backend: nftables or firewalld
	ServiceManager ServiceManager `json:"service_manager"`
}

// String is a one-line summary for progress output.
func (i Info) String() string {
	name := i.PrettyName
	if name == "" {
		name = i.ID + " " + i.VersionID
	}
	return fmt.Sprintf("%s (%s family, %s)", name, i.Family, i.ServiceManager)
}

type facts struct {
	pkg, group, sshService, sshPackage, autoUpdates, firewall string
}

var table = map[Family]facts{
	Debian: {"apt", "sudo", "ssh", "openssh-server", UnattendedUpgrades, "nftables"},
	Ubuntu: {"apt", "sudo", "ssh", "openssh-server", UnattendedUpgrades, "nftables"},
	Fedora: {"dnf", "wheel", "sshd", "openssh-server", DNFAutomatic, "firewalld"},
	RHEL:   {"dnf", "wheel", "sshd", "openssh-server", DNFAutomatic, "firewalld"},
	Arch:   {"pacman", "wheel", "sshd", "openssh", "", "nftables"},
}

// ids maps os-release IDs (and ID_LIKE entries) to a family.
var ids = map[string]Family{
	"debian": Debian, "raspbian": Debian,
	"ubuntu": Ubuntu,
	"fedora": Fedora,
	"rhel":   RHEL, "centos": RHEL, "rocky": RHEL, "almalinux": RHEL, "ol": RHEL,
	"arch": Arch, "archarm": Arch,
}

// ErrUnsupported is returned for a distribution outside the table.
var ErrUnsupported = errors.New("unsupported distribution")

// Supported lists the os-release IDs hardbake knows, for error messages.
func Supported() []string {
	var out []string
	for id := range ids {
		out = append(out, id)
	}
	sort.Strings(out)
	return out
}

// FamilyOf maps os-release to a family: ID first, then ID_LIKE in order.
// RHEL derivatives list "rhel centos fedora"; the first known entry wins, so
// Rocky is RHEL, not Fedora.
func FamilyOf(o OSRelease) (Family, error) {
	if f, ok := ids[o.ID]; ok {
		return f, nil
	}
	for _, like := range o.IDLike {
		if f, ok := ids[like]; ok {
			if f == Ubuntu { // e.g. Linux Mint: treat as Ubuntu
				return Ubuntu, nil
			}
			return f, nil
		}
	}
	return "", fmt.Errorf("%w: os-release ID=%q ID_LIKE=%q; supported IDs: %s",
		ErrUnsupported, o.ID, strings.Join(o.IDLike, " "), strings.Join(Supported(), ", "))
}

// FS is the part of a root Detect reads.
type FS interface {
	ReadFile(name string) ([]byte, error)
	Resolve(name string) (string, error)
	Exists(name string) bool
}

// Detect reads <root>/etc/os-release (or /usr/lib/os-release) and the init
// system, and returns the table's facts for that distribution.
func Detect(r FS) (Info, error) {
	data, err := r.ReadFile("/etc/os-release")
	if err != nil {
		var err2 error
		if data, err2 = r.ReadFile("/usr/lib/os-release"); err2 != nil {
			return Info{}, fmt.Errorf("%w: cannot read /etc/os-release: %v", ErrUnsupported, err)
		}
	}
	o, err := ParseOSRelease(string(data))
	if err != nil {
		return Info{}, err
	}
	fam, err := FamilyOf(o)
	if err != nil {
		return Info{}, err
	}
	f := table[fam]
	info := Info{
		OSRelease: o, Family: fam, PackageManager: f.pkg, AdminGroup: f.group,
		SSHService: f.sshService, SSHPackage: f.sshPackage, AutoUpdates: f.autoUpdates,
		Firewall: f.firewall, ServiceManager: detectInit(r),
	}
	// Ubuntu 22.10 moved sshd to socket activation: ssh.socket owns the
	// listening address, so port/family changes must reach the socket.
	if fam == Ubuntu && versionAtLeast(o.VersionID, 22, 10) && r.Exists("/lib/systemd/system/ssh.socket") {
		info.SSHSocket = "ssh.socket"
	}
	return info, nil
}

// detectInit decides what manages services by what /sbin/init is. A root
// without an init at all (a bare chroot or fixture) gets systemd, the
// default of every supported family.
func detectInit(r FS) ServiceManager {
	target, err := r.Resolve("/sbin/init")
	if err != nil || !r.Exists(target) {
		return Systemd
	}
	switch {
	case strings.Contains(target, "systemd"):
		return Systemd
	case strings.Contains(target, "openrc") || r.Exists("/sbin/openrc") || r.Exists("/usr/sbin/openrc"):
		return OpenRC
	default:
		return SysV
	}
}

// versionAtLeast compares a VERSION_ID like "22.10" or "9.4" numerically.
func versionAtLeast(v string, major, minor int) bool {
	maj, min, _ := strings.Cut(v, ".")
	a, err := strconv.Atoi(maj)
	if err != nil {
		return false
	}
	b, _ := strconv.Atoi(min)
	return a > major || (a == major && b >= minor)
}

// VersionAtLeast reports whether the distribution's VERSION_ID is >= major.minor.
func (i Info) VersionAtLeast(major, minor int) bool { return versionAtLeast(i.VersionID, major, minor) }
