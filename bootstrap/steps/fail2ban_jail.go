package steps

import (
	"fmt"
	"slices"
	"strings"

	"github.com/hardbake/hardbake/bootstrap/distro"
	"github.com/hardbake/hardbake/bootstrap/profile"
)

// Paths the fail2ban step owns. jail.d/*.local files are read after every
// jail.d/*.conf (Debian's defaults-debian.conf among them), so ours wins.
const (
	Fail2banJail        = "/etc/fail2ban/jail.d/hardbake-sshd.local"
	Fail2banSSHDFilter  = "/etc/fail2ban/filter.d/sshd.conf"
	Fail2banFilterLocal = "/etc/fail2ban/filter.d/sshd.local"
)

// jailSettings are the facts the sshd jail is rendered from.
type jailSettings struct {
	Ports       []int
	Journal     bool   // sshd logs to the journal (systemd): backend = systemd
	SSHUnit     string // ssh.service or sshd.service
	Backend     string // without a journal: how fail2ban follows LogPath
	LogPath     string // without a journal: where syslog writes sshd's messages
	Firewall    string // nftables, firewalld, ufw
	Profile     profile.Fail2ban
	FilterLocal bool // the installed filter predates sshd-session
}

// banActions maps a firewall backend to fail2ban's actions for it (single
// ports, all ports).
var banActions = map[string][2]string{
	"nftables":  {"nftables-multiport", "nftables-allports"},
	"firewalld": {"firewallcmd-rich-rules", "firewallcmd-allports"},
	"ufw":       {"ufw", "ufw"},
}

// sshdJail renders the jail file. On systemd hosts the journal is the one
// place sshd's failures always reach: Debian 12+ has no rsyslog and no
// /var/log/auth.log, where backend = auto fails with "Have not found any log
// file for sshd jail". OpenSSH >= 9.8 logs failures from sshd-session, so
// the journal match names both programs as well as the unit. Without systemd
// there is no journal: sshd logs through syslog, which the fail2ban step
// installs, into LogPath, followed with Backend.
func sshdJail(s jailSettings) string {
	var b strings.Builder
	b.WriteString("# Written by hardbake; rewritten on every bake. Put local changes in a jail.d/*.local file sorting later.\n")
	b.WriteString("[sshd]\nenabled = true\n")
	fmt.Fprintf(&b, "port = %s\n", joinInts(s.Ports, ","))
	if s.Journal {
		b.WriteString("backend = systemd\n")
		fmt.Fprintf(&b, "journalmatch = _SYSTEMD_UNIT=%s + _COMM=sshd + _COMM=sshd-session\n", s.SSHUnit)
	} else {
		fmt.Fprintf(&b, "backend = %s\nlogpath = %s\n", s.Backend, s.LogPath)
	}
	fmt.Fprintf(&b, "maxretry = %d\nfindtime = %d\nbantime = %d\n", s.Profile.MaxRetry, s.Profile.FindTime, s.Profile.BanTime)
	if a, ok := banActions[s.Firewall]; ok {
		fmt.Fprintf(&b, "banaction = %s\nbanaction_allports = %s\n", a[0], a[1])
	}
	ignore := append([]string{"127.0.0.1/8", "::1"}, s.Profile.IgnoreIP...)
	fmt.Fprintf(&b, "ignoreip = %s\n", strings.Join(ignore, " "))
	return b.String()
}

// sshdFilterLocal teaches an older sshd filter (fail2ban < 1.1) the
// sshd-session program name of OpenSSH >= 9.8 (fail2ban #3747/#3782).
const sshdFilterLocal = `# Written by hardbake: OpenSSH >= 9.8 logs authentication failures from
# sshd-session, which this fail2ban's sshd filter does not know yet.
[Definition]
_daemon = sshd(?:-session)?
`

// hasJournal: systemd's journal receives sshd's messages. Every other
// service manager leaves them to a syslog daemon.
func hasJournal(d distro.Info) bool { return d.ServiceManager == distro.Systemd }

// sysvScriptsPackage holds the init scripts Debian moved out of the packages
// that now ship only a systemd unit (rsyslog among them): installed beside
// such a package on Debian with SysV init, nothing elsewhere.
func sysvScriptsPackage(d distro.Info) []string {
	if d.Family == distro.Debian && d.ServiceManager == distro.SysV {
		return []string{"orphan-sysvinit-scripts"}
	}
	return nil
}

// authLog is where the distribution's syslog configuration writes the auth
// facility (sshd's messages).
func authLog(d distro.Info) string {
	if d.Family == distro.Fedora || d.Family == distro.RHEL {
		return "/var/log/secure"
	}
	return "/var/log/auth.log"
}

// logBackend is how fail2ban follows the auth log without a journal:
// inotify where the step installs its Python binding, polling elsewhere.
func logBackend(d distro.Info) string {
	for _, phase := range fail2banPackages(d, "") {
		if slices.Contains(phase, "python3-pyinotify") {
			return "pyinotify"
		}
	}
	return "polling"
}

// fail2banPackages are installed in phases: the RHEL family gets fail2ban
// from EPEL, which must be enabled first. The systemd backend needs the
// journal's Python binding: without it `fail2ban-client -t` says OK but the
// server dies at start. Without a journal (Debian with SysV init) sshd's
// failures reach fail2ban only through a syslog daemon: rsyslog, whose init
// script Debian 12 moved to orphan-sysvinit-scripts (rsyslog itself ships
// only rsyslog.service), and pyinotify for the backend.
func fail2banPackages(d distro.Info, firewall string) [][]string {
	var pkgs [][]string
	switch d.Family {
	case distro.RHEL:
		pkgs = [][]string{{"epel-release"}, {"fail2ban-server", "fail2ban-systemd"}}
	case distro.Fedora:
		pkgs = [][]string{{"fail2ban-server", "fail2ban-systemd"}}
	case distro.Arch:
		pkgs = [][]string{{"fail2ban", "python-systemd"}}
	default:
		if hasJournal(d) {
			pkgs = [][]string{{"fail2ban", "python3-systemd"}}
		} else {
			pkgs = [][]string{append([]string{"fail2ban", "python3-pyinotify", "rsyslog"}, sysvScriptsPackage(d)...)}
		}
	}
	// The ban action needs its firewall tool.
	if firewall == "nftables" {
		last := len(pkgs) - 1
		pkgs[last] = append(pkgs[last], "nftables")
	}
	return pkgs
}
