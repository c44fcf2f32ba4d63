package distro

import (
	"slices"
	"strconv"
	"strings"
)

// PackageManager is everything hardbake needs to know to drive one package
// manager: the commands for each operation, how to read their output, what
// else runs it in the background. Steps build their commands from it and
// never spell apt-get, dnf or pacman themselves.
type PackageManager struct {
	Name   string // Info.PackageManager: apt, dnf, pacman
	Binary string // the program that installs, removes and upgrades

	// The operations, each a whole command (program first) that runs
	// without a prompt; Install, Remove, RemoveTest and Query get package
	// names after it. "{lock}" stands for the seconds to wait for another
	// instance's lock (updates.lock_timeout).
	Refresh, Pending, Upgrade, Install, Remove []string

	// PendingExit is the exit code with which Pending says "upgrades are
	// pending" (dnf check-update: 100); NonePendingExit the one with which
	// it says "none" and prints nothing (pacman -Qu: 1). 0: not used.
	PendingExit, NonePendingExit int
	// PendingPackage reads one line of Pending's output (split in fields):
	// the package an upgrade is pending for.
	PendingPackage func(fields []string) (string, bool)

	// RemoveTest tells what removing packages would take along, without
	// removing anything. RemovedPackage reads one line of its output; nil
	// when the command prints nothing and refuses instead (rpm -e --test):
	// then what goes is exactly the packages named.
	RemoveTest     []string
	RemovedPackage func(fields []string) (string, bool)

	// Where the installed packages are known: StatusFile (dpkg's status
	// file) and LocalDB (pacman's directory per package) are plain files
	// read through the root, so they work on a read-only image; Query
	// prints the installed ones' names, one a line, for a database only
	// its tool reads (rpm).
	StatusFile string
	LocalDB    string
	Query      []string

	// Timers start the package manager by themselves (typically at a build
	// VM's first boot) and then hold its lock: a live bake pauses them.
	Timers []string
	// Locks are the files it locks (fcntl) while it works; hardbake waits
	// for them to be free, beyond what the tool itself waits for.
	Locks []string
	// ServicePolicy: package scripts start their daemons through
	// invoke-rc.d, which /usr/sbin/policy-rc.d can forbid; an install into
	// a chroot needs that, or the daemon starts on the build host.
	ServicePolicy bool
}

// aptGet is apt-get with what every run needs: wait for the dpkg lock
// instead of failing with "Could not get lock" while apt-daily runs at a
// build VM's boot, and keep the admin's version of changed config files.
func aptGet(args ...string) []string {
	return append([]string{"apt-get", "-q", "-o", "DPkg::Lock::Timeout={lock}",
		"-o", "Dpkg::Options::=--force-confdef", "-o", "Dpkg::Options::=--force-confold"}, args...)
}

// packageManagers is the table, keyed by Info.PackageManager.
var packageManagers = map[string]PackageManager{
	"apt": {
		Name: "apt", Binary: "apt-get",
		Refresh: aptGet("update"),
		Pending: aptGet("-s", "dist-upgrade"),
		Upgrade: aptGet("-y", "dist-upgrade"),
		Install: aptGet("-y", "--no-install-recommends", "install"),
		Remove:  aptGet("-y", "purge"),
		// "Inst libc6 [2.36-9] (2.36-9+deb12u4 Debian:12.5/stable [amd64])"
		PendingPackage: secondField("Inst"),
		RemoveTest:     aptGet("-s", "purge"),
		// "Purg exim4-base [4.96-15+deb12u5]"; "Remv ..." for a package
		// without configuration files left
		RemovedPackage: secondField("Purg", "Remv"),
		StatusFile:     "/var/lib/dpkg/status",
		Timers:         []string{"apt-daily.timer", "apt-daily-upgrade.timer"},
		// apt-get's DPkg::Lock::Timeout covers only the dpkg frontend
		// lock: "apt-get update" would still fail on the lists lock.
		Locks: []string{"/var/lib/dpkg/lock-frontend", "/var/lib/dpkg/lock",
			"/var/lib/apt/lists/lock", "/var/cache/apt/archives/lock"},
		ServicePolicy: true,
	},
	"dnf": {
		Name: "dnf", Binary: "dnf",
		Refresh:     []string{"dnf", "-q", "makecache", "--refresh"},
		Pending:     []string{"dnf", "-q", "check-update"},
		Upgrade:     []string{"dnf", "-y", "upgrade"},
		Install:     []string{"dnf", "-y", "install"},
		Remove:      []string{"dnf", "-y", "remove", "--setopt=clean_requirements_on_remove=False"},
		PendingExit: 100,
		// "openssl.x86_64   1:3.0.7-27.el9   baseos"; headings such as
		// "Obsoleting Packages:" have other shapes.
		PendingPackage: func(f []string) (string, bool) {
			if len(f) == 3 && !strings.HasSuffix(f[0], ":") {
				return f[0], true
			}
			return "", false
		},
		// rpm refuses when another installed package needs one of them.
		RemoveTest: []string{"rpm", "-e", "--test"},
		Query:      []string{"rpm", "-q", "--qf", "%{NAME}\\n"},
		Timers:     []string{"dnf-makecache.timer"},
	},
	"pacman": {
		Name: "pacman", Binary: "pacman",
		Refresh:         []string{"pacman", "-Sy", "--noconfirm"},
		Pending:         []string{"pacman", "-Qu"},
		Upgrade:         []string{"pacman", "-Su", "--noconfirm"},
		Install:         []string{"pacman", "-S", "--needed", "--noconfirm"},
		Remove:          []string{"pacman", "-Rns", "--noconfirm"},
		NonePendingExit: 1,
		// "linux 6.6.1.arch1-1 -> 6.6.2.arch1-1"
		PendingPackage: func(f []string) (string, bool) {
			if len(f) >= 4 && f[2] == "->" {
				return f[0], true
			}
			return "", false
		},
		RemoveTest: []string{"pacman", "-Rns", "--print", "--print-format", "%n"},
		// one package name a line
		RemovedPackage: func(f []string) (string, bool) {
			if len(f) == 1 {
				return f[0], true
			}
			return "", false
		},
		LocalDB: "/var/lib/pacman/local",
	},
}

// secondField reads lines whose first field is one of verbs: the package
// is the second field.
func secondField(verbs ...string) func([]string) (string, bool) {
	return func(f []string) (string, bool) {
		if len(f) > 1 && slices.Contains(verbs, f[0]) {
			return f[1], true
		}
		return "", false
	}
}

// Packages is the package manager of this distribution (the zero value
// for one outside the table, which Detect never returns).
func (i Info) Packages() PackageManager { return packageManagers[i.PackageManager] }

// IsPackageManager reports whether program is the binary of a package
// manager in the table: a command that installs, removes or upgrades
// packages, and so needs the network and changes the image.
func IsPackageManager(program string) bool {
	for _, m := range packageManagers {
		if m.Binary == program {
			return true
		}
	}
	return false
}

// Command is op (one of the operations) with "{lock}" filled in and pkgs
// after it.
func Command(op []string, lock int, pkgs ...string) []string {
	argv := make([]string, 0, len(op)+len(pkgs))
	for _, a := range op {
		argv = append(argv, strings.ReplaceAll(a, "{lock}", strconv.Itoa(lock)))
	}
	return append(argv, pkgs...)
}

// PendingUpgrades reads Pending's output: the packages with an upgrade.
func (m PackageManager) PendingUpgrades(out string) []string {
	return readPackages(out, m.PendingPackage)
}

// Removed reads RemoveTest's output: the packages removing pkgs would
// remove (pkgs themselves where the test only refuses or agrees).
func (m PackageManager) Removed(out string, pkgs []string) []string {
	if m.RemovedPackage == nil {
		return pkgs
	}
	return readPackages(out, m.RemovedPackage)
}

func readPackages(out string, read func([]string) (string, bool)) []string {
	var pkgs []string
	for _, l := range strings.Split(out, "\n") {
		if p, ok := read(strings.Fields(l)); ok {
			pkgs = append(pkgs, p)
		}
	}
	return pkgs
}
