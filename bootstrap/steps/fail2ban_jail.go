package steps

import (
	"fmt"
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
	Systemd     bool   // read the journal (backend = systemd)
	SSHUnit     string // ssh.service or sshd.service
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
// the journal match names both programs as well as the unit.
func sshdJail(s jailSettings) string {
	var b strings.Builder
	b.WriteString("# Written by hardbake; rewritten on every bake. Put local changes in a jail.d/*.local file sorting later.\n")
	b.WriteString("[sshd]\nenabled = true\n")
	fmt.Fprintf(&b, "port = %s\n", joinInts(s.Ports, ","))
	if s.Systemd {
		b.WriteString("backend = systemd\n")
		fmt.Fprintf(&b, "journalmatch = _SYSTEMD_UNIT=%s + _COMM=sshd + _COMM=sshd-session\n", s.SSHUnit)
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

// fail2banPackages are installed in phases: the RHEL family gets fail2ban
// from EPEL, which must be enabled first. The systemd backend needs the
// journal's Python binding: without it `fail2ban-client -t` says OK but the
// server dies at start.
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
		pkgs = [][]string{{"fail2ban", "python3-systemd"}}
	}
	// The ban action needs its firewall tool.
	if firewall == "nftables" {
		last := len(pkgs) - 1
		pkgs[last] = append(pkgs[last], "nftables")
	}
	return pkgs
}
