package steps

import (
	"github.com/hardbake/hardbake/bootstrap/report"
)

// sshRefs maps each ssh check (by `sshd -T` keyword) to the outside
// benchmark items it covers, so an audit report can be read against them:
// dev-sec ssh-baseline controls (controls/sshd_spec.rb) and the options of
// Lynis test SSH-7408 (include/tests_ssh; Lynis's skip-test takes them as
// SSH-7408:option, lower-cased). Only items whose source was read are listed.
var sshRefs = map[string][]string{
	"ciphers":                      {"dev-sec:sshd-01"},
	"kexalgorithms":                {"dev-sec:sshd-02"},
	"macs":                         {"dev-sec:sshd-03"},
	"permitrootlogin":              {"dev-sec:sshd-06", "lynis:SSH-7408:PermitRootLogin"},
	"port":                         {"dev-sec:sshd-07", "lynis:SSH-7408:Port"},
	"addressfamily":                {"dev-sec:sshd-08"},
	"logingracetime":               {"dev-sec:sshd-18", "lynis:SSH-7408:LoginGraceTime"},
	"maxauthtries":                 {"dev-sec:sshd-19", "lynis:SSH-7408:MaxAuthTries"},
	"pubkeyauthentication":         {"dev-sec:sshd-22"},
	"passwordauthentication":       {"dev-sec:sshd-27"},
	"kbdinteractiveauthentication": {"dev-sec:sshd-29"}, // ChallengeResponseAuthentication is its old name
	"x11forwarding":                {"dev-sec:sshd-42", "lynis:SSH-7408:X11Forwarding"},
}

// sshDeviations are benchmark items the ssh step leaves alone on purpose.
var sshDeviations = []report.Deviation{
	{Refs: []string{"lynis:SSH-7408:Port"},
		Reason: "Port 22 is kept unless ssh.ports says otherwise: another port hides nothing from scanners, and Packer, cloud consoles and firewalls expect 22 (dev-sec sshd-07 expects 22 too)"},
	{Refs: []string{"dev-sec:sshd-20", "lynis:SSH-7408:MaxSessions"},
		Reason: "MaxSessions keeps OpenSSH's default 10: Packer, Ansible pipelining and ControlMaster multiplex sessions over one connection (dev-sec expects 10, Lynis 2)"},
	{Refs: []string{"dev-sec:sshd-19"},
		Reason: "MaxAuthTries is 3 (ssh.max_auth_tries), not dev-sec's 2: an agent holding two keys would fail before the right one; Lynis rates 3 good"},
	{Refs: []string{"dev-sec:sshd-39", "dev-sec:sshd-40", "lynis:SSH-7408:AllowTcpForwarding", "lynis:SSH-7408:AllowAgentForwarding"},
		Reason: "TCP and agent forwarding stay allowed: bastion hops, Ansible and Packer's own tunnels use them; they need an authenticated key login first"},
}

// Deviations implements Deviator.
func (SSH) Deviations(*Env) []report.Deviation { return sshDeviations }
