package steps

import (
	"github.com/hardbake/hardbake/bootstrap/profile"
	"github.com/hardbake/hardbake/bootstrap/report"
)

// sshRefs maps each ssh check (by `sshd -T` keyword) to the outside
// benchmark items it covers, so an audit report can be read against them:
// dev-sec ssh-baseline controls (controls/sshd_spec.rb) and the options of
// Lynis test SSH-7408 (include/tests_ssh; Lynis's skip-test takes them as
// SSH-7408:option, lower-cased). Only items whose source was read are listed.
var sshRefs = map[string][]string{
	"ciphers":                      {"dev-sec:sshd-01", "ssg:sshd_use_strong_ciphers"},
	"kexalgorithms":                {"dev-sec:sshd-02", "ssg:sshd_use_strong_kex"},
	"macs":                         {"dev-sec:sshd-03", "ssg:sshd_use_strong_macs"},
	"permitrootlogin":              {"dev-sec:sshd-06", "lynis:SSH-7408:PermitRootLogin", "ssg:sshd_disable_root_login"},
	"port":                         {"dev-sec:sshd-07", "lynis:SSH-7408:Port"},
	"addressfamily":                {"dev-sec:sshd-08"},
	"logingracetime":               {"dev-sec:sshd-18", "lynis:SSH-7408:LoginGraceTime", "ssg:sshd_set_login_grace_time"},
	"maxauthtries":                 {"dev-sec:sshd-19", "lynis:SSH-7408:MaxAuthTries", "ssg:sshd_set_max_auth_tries"},
	"maxsessions":                  {"dev-sec:sshd-20", "ssg:sshd_set_max_sessions"},
	"pubkeyauthentication":         {"dev-sec:sshd-22", "ssg:sshd_enable_pubkey_auth"},
	"passwordauthentication":       {"dev-sec:sshd-27"},
	"kbdinteractiveauthentication": {"dev-sec:sshd-29"}, // ChallengeResponseAuthentication is its old name
	"x11forwarding":                {"dev-sec:sshd-42", "lynis:SSH-7408:X11Forwarding", "ssg:sshd_disable_x11_forwarding"},
	"permitemptypasswords":         {"ssg:sshd_disable_empty_passwords"},
	"hostbasedauthentication":      {"ssg:disable_host_auth"},
	"ignorerhosts":                 {"lynis:SSH-7408:IgnoreRhosts", "ssg:sshd_disable_rhosts"},
	"permituserenvironment":        {"lynis:SSH-7408:PermitUserEnvironment", "ssg:sshd_do_not_permit_user_env"},
	"gssapiauthentication":         {"ssg:sshd_disable_gssapi_auth"},
	"maxstartups":                  {"ssg:sshd_set_maxstartups"},
	"clientaliveinterval":          {"lynis:SSH-7408:ClientAliveInterval", "ssg:sshd_set_idle_timeout"},
	"clientalivecountmax":          {"ssg:sshd_set_keepalive"},
	"loglevel":                     {"ssg:sshd_set_loglevel_info"},
	"allowtcpforwarding":           {"lynis:SSH-7408:AllowTcpForwarding", "ssg:sshd_disable_tcp_forwarding"},
	"allowagentforwarding":         {"lynis:SSH-7408:AllowAgentForwarding"},
	"disableforwarding":            {"ssg:sshd_disable_forwarding"},
	"banner":                       {"ssg:sshd_enable_warning_banner_net"},
	"allowgroups":                  {"ssg:sshd_limit_user_access"},
	// Not sshd keywords: the files the step writes.
	"banner_text":      {"ssg:banner_etc_issue_net_cis"},
	"sshd_config_mode": {"ssg:file_permissions_sshd_config"},
}

// sshDeviations are benchmark items the ssh step leaves alone on purpose;
// the profile decides some of them.
func sshDeviations(p profile.SSH) []report.Deviation {
	d := []report.Deviation{
		{Refs: []string{"lynis:SSH-7408:Port"},
			Reason: "Port 22 is kept unless ssh.ports says otherwise: another port hides nothing from scanners, and Packer, cloud consoles and firewalls expect 22 (dev-sec sshd-07 expects 22 too)"},
		{Refs: []string{"lynis:SSH-7408:MaxSessions"},
			Reason: "MaxSessions is 10 (ssh.max_sessions), OpenSSH's default and CIS's limit, not Lynis's 2: Packer, Ansible pipelining and ControlMaster multiplex sessions over one connection"},
		{Refs: []string{"lynis:SSH-7408:ClientAliveCountMax"},
			Reason: "ClientAliveCountMax is 3 (ssh.client_alive_count_max), the value CIS asks for; Lynis rates 2 better and 3 reasonable"},
		{Refs: []string{"dev-sec:sshd-19"},
			Reason: "MaxAuthTries is 3 (ssh.max_auth_tries), not dev-sec's 2: an agent holding two keys would fail before the right one; Lynis rates 3 good"},
	}
	if p.LogLevel != "VERBOSE" {
		d = append(d, report.Deviation{Refs: []string{"lynis:SSH-7408:LogLevel"},
			Reason: "LogLevel is INFO (ssh.log_level): SCAP Security Guide's CIS rule accepts only INFO; VERBOSE (Lynis's choice) also logs the key fingerprint of each login"})
	} else {
		d = append(d, report.Deviation{Refs: []string{"ssg:sshd_set_loglevel_info"},
			Reason: "LogLevel is VERBOSE (ssh.log_level): it also logs the key fingerprint of each login; CIS allows it, SCAP Security Guide's rule accepts only INFO"})
	}
	if p.MaxSessions > 10 {
		d = append(d, report.Deviation{Refs: []string{"ssg:sshd_set_max_sessions", "dev-sec:sshd-20"},
			Reason: "MaxSessions is above 10 (ssh.max_sessions)"})
	}
	if p.TCPForwarding || p.AgentForwarding || p.X11Forwarding {
		d = append(d, report.Deviation{Refs: []string{"ssg:sshd_disable_forwarding"},
			Reason: "some forwarding is allowed (ssh.tcp_forwarding, ssh.agent_forwarding, ssh.x11_forwarding), so DisableForwarding is not set"})
	}
	if p.TCPForwarding {
		d = append(d, report.Deviation{Refs: []string{"ssg:sshd_disable_tcp_forwarding", "dev-sec:sshd-39", "lynis:SSH-7408:AllowTcpForwarding"},
			Reason: "TCP forwarding is allowed (ssh.tcp_forwarding): a bastion host needs it"})
	}
	if p.AgentForwarding {
		d = append(d, report.Deviation{Refs: []string{"dev-sec:sshd-40", "lynis:SSH-7408:AllowAgentForwarding"},
			Reason: "agent forwarding is allowed (ssh.agent_forwarding)"})
	}
	if !p.LimitGroups {
		d = append(d, report.Deviation{Refs: []string{"ssg:sshd_limit_user_access"},
			Reason: "no AllowGroups (ssh.limit_groups: false): every account with a key may log in"})
	}
	if p.Banner == "" {
		d = append(d, report.Deviation{Refs: []string{"ssg:sshd_enable_warning_banner_net"},
			Reason: "no login banner (ssh.banner is empty)"})
	}
	if p.ClientAliveInterval == 0 || p.ClientAliveInterval > 300 || p.ClientAliveCountMax != 3 {
		d = append(d, report.Deviation{Refs: []string{"ssg:sshd_set_idle_timeout", "ssg:sshd_set_keepalive"},
			Reason: "ssh.client_alive_interval is not 1-300 or ssh.client_alive_count_max not 3, as CIS asks"})
	}
	return d
}

// Deviations implements Deviator.
func (SSH) Deviations(env *Env) []report.Deviation { return sshDeviations(env.Profile.SSH) }
