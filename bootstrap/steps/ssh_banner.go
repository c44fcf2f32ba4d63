package steps

import (
	"fmt"
	"strings"

	"github.com/hardbake/hardbake/bootstrap/profile"
	"github.com/hardbake/hardbake/bootstrap/report"
)

// IssueNet is the banner sshd shows before login (Banner). Debian's says
// "Debian GNU/Linux 12": CIS wants no OS or version there, nothing that
// helps an attacker pick an exploit.
const IssueNet = "/etc/issue.net"

// sshdConfigMode is what CIS asks of sshd_config: only root reads it (it
// names the allowed groups, the ports, the algorithms).
const sshdConfigMode = 0o600

// bannerText is the profile's banner as a file: ending in one newline.
func bannerText(p profile.SSH) string {
	return strings.TrimRight(p.Banner, "\n") + "\n"
}

// sshFileActions writes the banner and makes sshd_config root's alone.
// When planned (the actions so far) rewrites sshd_config, the rewrite
// carries the mode, so a crash never leaves the new content with the old
// mode; otherwise the mode is its own action.
func sshFileActions(env *Env, p profile.SSH, planned []Action) ([]Action, error) {
	var out []Action
	if p.Banner != "" {
		a, err := WriteFile(env.Root, IssueNet, []byte(bannerText(p)), 0o644, "login banner without the OS name or version")
		if err != nil {
			return nil, err
		}
		if a != nil {
			out = append(out, *a)
		}
	}
	for i := range planned {
		if planned[i].Kind == "write" && planned[i].Path == SSHDConfig {
			planned[i].Mode, planned[i].ExactMode = sshdConfigMode, true
			planned[i].Summary += fmt.Sprintf(", readable by root only (%04o)", sshdConfigMode)
			return out, nil
		}
	}
	if fi, err := env.Root.Stat(SSHDConfig); err == nil && fi.Mode().Perm() != sshdConfigMode {
		out = append(out, Action{Kind: "chmod", Path: SSHDConfig, Mode: sshdConfigMode,
			Summary: fmt.Sprintf("%s readable by root only (%04o)", SSHDConfig, sshdConfigMode)})
	}
	return out, nil
}

// sshFileChecks: the banner file's text and sshd_config's mode.
func sshFileChecks(env *Env, p profile.SSH) []report.Check {
	var out []report.Check
	if p.Banner != "" {
		data, _ := env.Root.ReadFile(IssueNet)
		c := check("ssh.banner_text", strings.TrimSpace(bannerText(p)), strings.TrimSpace(string(data)))
		c.Detail = IssueNet
		c.Refs = sshRefs["banner_text"]
		out = append(out, c)
	}
	got := "missing"
	if fi, err := env.Root.Stat(SSHDConfig); err == nil {
		got = fmt.Sprintf("%04o", fi.Mode().Perm())
	}
	c := check("ssh.sshd_config_mode", fmt.Sprintf("%04o", sshdConfigMode), got)
	c.Refs = sshRefs["sshd_config_mode"]
	return append(out, c)
}
