package steps

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/hardbake/hardbake/bootstrap/profile"
)

// AuditdConf is auditd's configuration: "key = value" lines.
const AuditdConf = "/etc/audit/auditd.conf"

// confSetting is one key = value of auditd.conf.
type confSetting struct{ Key, Value string }

// auditdSettings are the auditd.conf values the profile asks for, in
// the order they are appended when missing.
func auditdSettings(a profile.Audit) []confSetting {
	return []confSetting{
		{"max_log_file", fmt.Sprint(a.MaxLogFile)},
		{"max_log_file_action", a.MaxLogFileAction},
		{"space_left_action", a.SpaceLeftAction},
		// Where "email" goes (CIS: root).
		{"action_mail_acct", "root"},
		{"admin_space_left_action", a.AdminSpaceLeftAction},
		{"disk_full_action", a.DiskFullAction},
		{"disk_error_action", a.DiskErrorAction},
		// Audit logs readable by root only (SSG; Debian's default is adm).
		{"log_group", "root"},
	}
}

var auditdConfLine = regexp.MustCompile(`^[ \t]*([A-Za-z_]+)[ \t]*=`)

// setAuditdConf sets each key of want in an auditd.conf text: the first
// line of a key is rewritten in place (comments and order kept), later
// lines of the same key are dropped (auditd would take the last), missing
// keys are appended.
func setAuditdConf(text string, want []confSetting) string {
	value := map[string]string{}
	for _, s := range want {
		value[s.Key] = s.Value
	}
	done := map[string]bool{}
	var out []string
	lines := strings.SplitAfter(text, "\n")
	if lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	for _, l := range lines {
		m := auditdConfLine.FindStringSubmatch(l)
		if m == nil {
			out = append(out, l)
			continue
		}
		v, ours := value[m[1]]
		switch {
		case !ours:
			out = append(out, l)
		case !done[m[1]]:
			out = append(out, m[1]+" = "+v+"\n")
			done[m[1]] = true
		}
	}
	if n := len(out); n > 0 && !strings.HasSuffix(out[n-1], "\n") {
		out[n-1] += "\n"
	}
	for _, s := range want {
		if !done[s.Key] {
			out = append(out, s.Key+" = "+s.Value+"\n")
		}
	}
	return strings.Join(out, "")
}

// auditdConfValues reads auditd.conf as auditd does: the last value of a
// key wins; keys are lower case.
func auditdConfValues(text string) map[string]string {
	got := map[string]string{}
	for _, l := range strings.Split(text, "\n") {
		if m := auditdConfLine.FindStringSubmatch(l); m != nil {
			_, v, _ := strings.Cut(l, "=")
			got[m[1]] = strings.TrimSpace(v)
		}
	}
	return got
}

// The block hardbake keeps in AIDE's configuration.
const (
	aideBlockBegin = "# BEGIN hardbake (managed; rewritten on every bake)"
	aideBlockEnd   = "# END hardbake"
)

// aideBlock is what AIDE must watch and what it must leave alone in a
// golden image:
//   - the audit tools, with the attributes SSG's aide_check_audit_tools
//     (CIS) asks for, so a changed auditctl is found;
//   - files each machine made from the image changes by design at its first
//     boot: seal removes the SSH host keys, empties machine-id and sets
//     the host name, first boot and cloud-init make them anew; DHCP writes
//     resolv.conf; cloud-init keeps its state in /var/lib/cloud. Their
//     owner and mode are still checked (VarFile) where the file stays.
func aideBlock(sbin string) string {
	var b strings.Builder
	b.WriteString(aideBlockBegin + "\n")
	b.WriteString("# The audit tools (CIS): a changed auditctl could hide what it loads.\n")
	for _, tool := range []string{"auditctl", "auditd", "ausearch", "aureport", "autrace", "augenrules"} {
		fmt.Fprintf(&b, "%s/%s p+i+n+u+g+s+b+acl+selinux+xattrs+sha512\n", sbin, tool)
	}
	b.WriteString("# Made anew on every machine made from this image (first boot, cloud-init).\n")
	b.WriteString("!/etc/ssh/ssh_host_[^/]+_key(\\.pub)?$ f\n")
	b.WriteString("/etc/machine-id$ f p+u+g\n")
	b.WriteString("/etc/hostname$ f p+u+g\n")
	b.WriteString("/etc/resolv\\.conf$ p+u+g\n")
	b.WriteString("!/var/lib/dbus/machine-id$\n")
	b.WriteString("!/var/lib/systemd/random-seed$ f\n")
	b.WriteString("!/var/lib/cloud(/|$)\n")
	b.WriteString("# Devices: made anew at every boot (devtmpfs); the build host's during a bake.\n")
	b.WriteString("!/dev(/|$)\n")
	b.WriteString(aideBlockEnd + "\n")
	return b.String()
}

// setAIDEBlock puts block into an AIDE configuration: in place of an
// earlier hardbake block, or before the first @@x_include/@@include line
// (Debian includes its rule directory last; AIDE applies a rule to the
// paths below it in order), or at the end.
func setAIDEBlock(text, block string) string {
	if i := strings.Index(text, aideBlockBegin); i >= 0 {
		if j := strings.Index(text[i:], aideBlockEnd+"\n"); j >= 0 {
			return text[:i] + block + text[i+j+len(aideBlockEnd)+1:]
		}
	}
	lines := strings.SplitAfter(text, "\n")
	for i, l := range lines {
		if strings.HasPrefix(l, "@@x_include ") || strings.HasPrefix(l, "@@include ") {
			return strings.Join(lines[:i], "") + block + strings.Join(lines[i:], "")
		}
	}
	if text != "" && !strings.HasSuffix(text, "\n") {
		text += "\n"
	}
	return text + block
}
