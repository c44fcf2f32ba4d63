package steps

import (
	"fmt"
	"slices"
	"strings"

	"github.com/hardbake/hardbake/bootstrap/distro"
	"github.com/hardbake/hardbake/bootstrap/ini"
	"github.com/hardbake/hardbake/bootstrap/profile"
)

// UnattendedUpgradesConf sorts after the package's 50unattended-upgrades and
// the 20auto-upgrades debconf writes, so its values win (apt reads
// apt.conf.d in lexical order; for lists, #clear empties what came before).
const UnattendedUpgradesConf = "/etc/apt/apt.conf.d/52hardbake-unattended-upgrades"

// securityOrigins is the only archive unattended-upgrades may take from: the
// security archive of the running release. Debian's 50unattended-upgrades
// also allows the point-release archive ("label=Debian"); Ubuntu's allows
// the release pocket and ESM.
func securityOrigins(d distro.Info) (listKey string, origins []string) {
	if d.Family == distro.Ubuntu {
		return "Unattended-Upgrade::Allowed-Origins", []string{"${distro_id}:${distro_codename}-security"}
	}
	return "Unattended-Upgrade::Origins-Pattern", []string{"origin=Debian,codename=${distro_codename}-security,label=Debian-Security"}
}

// unattendedUpgradesConfig renders UnattendedUpgradesConf.
func unattendedUpgradesConfig(d distro.Info, p profile.Updates) string {
	key, origins := securityOrigins(d)
	var b strings.Builder
	b.WriteString("// Written by hardbake; rewritten on every bake. Local changes belong in a later file.\n")
	b.WriteString("// Automatic updates from the security archive of the running release only.\n")
	b.WriteString("#clear Unattended-Upgrade::Origins-Pattern;\n#clear Unattended-Upgrade::Allowed-Origins;\n")
	fmt.Fprintf(&b, "%s {\n", key)
	for _, o := range origins {
		fmt.Fprintf(&b, "\t%q;\n", o)
	}
	b.WriteString("};\n")
	fmt.Fprintf(&b, "Unattended-Upgrade::Automatic-Reboot %q;\n", fmt.Sprint(p.AutomaticReboot))
	if p.AutomaticReboot {
		fmt.Fprintf(&b, "Unattended-Upgrade::Automatic-Reboot-Time %q;\n", p.RebootTime)
	}
	// unattended-upgrade holds back every package that ships a new version
	// of a conffile the hardening changed (journald.conf, login.defs, ...)
	// unless dpkg is told how to answer (its dpkg_conffile_prompt): keep
	// ours, so security updates of those packages still install. The
	// package's new file is left beside it as .dpkg-dist.
	b.WriteString("DPkg::Options {\n\t\"--force-confdef\";\n\t\"--force-confold\";\n};\n")
	// What makes apt-daily(-upgrade).timer run unattended-upgrade daily.
	b.WriteString("APT::Periodic::Update-Package-Lists \"1\";\nAPT::Periodic::Unattended-Upgrade \"1\";\nAPT::Periodic::AutocleanInterval \"7\";\n")
	return b.String()
}

// aptPeriodicWant are the APT::Periodic values the check expects.
var aptPeriodicWant = []string{"APT::Periodic::Update-Package-Lists=1", "APT::Periodic::Unattended-Upgrade=1"}

// dpkgKeepsConffiles reports whether apt passes --force-confold to dpkg
// (apt's keys are case-insensitive: Dpkg::Options and DPkg::Options are one).
func dpkgKeepsConffiles(dump map[string][]string) bool {
	for k, vs := range dump {
		if strings.EqualFold(k, "DPkg::Options::") && slices.Contains(vs, "--force-confold") {
			return true
		}
	}
	return false
}

// aptConfigDump reads `apt-config dump` output into key -> values, list
// entries ("Key:: "value";") collected under "Key::".
func aptConfigDump(out string) map[string][]string {
	m := map[string][]string{}
	for _, l := range strings.Split(out, "\n") {
		k, v, ok := strings.Cut(strings.TrimSpace(l), " ")
		if !ok {
			continue
		}
		v = strings.TrimSuffix(strings.TrimSpace(v), ";")
		v = strings.TrimSuffix(strings.TrimPrefix(v, `"`), `"`)
		if strings.HasSuffix(k, "::") && v == "" {
			continue
		}
		m[k] = append(m[k], v)
	}
	return m
}

// dnfAutomatic is the automatic-update package of a dnf system. Fedora 41
// moved to dnf5, whose plugin has its own package and timer.
//
// dnf4's dnf-automatic reads /etc/dnf/automatic.conf, its only file. dnf5's
// plugin reads its shipped defaults from Defaults
// (/usr/share/dnf5/dnf5-plugins/automatic.conf) and host overrides from
// /etc/dnf/automatic.conf (dnf5 commit 73ed42f, the dnf4-compatible place);
// the dnf5 releases before that (PR #1476, Fedora 41's first 5.2 builds)
// took the overrides from /etc/dnf/dnf5-plugins/automatic.conf, which later
// releases still honour but call deprecated (dnf5 issue #1770: with both
// present the result surprised users). So hardbake writes Config and, when a
// Legacy file exists, sets the same keys there too: whichever one the
// installed dnf5 reads, it says security.
type dnfAutomatic struct {
	Package, Config, Timer string
	Defaults               string   // shipped defaults ("" for dnf4)
	Legacy                 []string // older override files, edited only when present
}

func dnfAutomaticFor(d distro.Info) dnfAutomatic {
	if d.Family == distro.Fedora && d.VersionAtLeast(41, 0) {
		return dnfAutomatic{Package: "dnf5-plugin-automatic", Config: "/etc/dnf/automatic.conf", Timer: "dnf5-automatic.timer",
			Defaults: "/usr/share/dnf5/dnf5-plugins/automatic.conf",
			Legacy:   []string{"/etc/dnf/dnf5-plugins/automatic.conf"}}
	}
	return dnfAutomatic{Package: "dnf-automatic", Config: "/etc/dnf/automatic.conf", Timer: "dnf-automatic.timer"}
}

// effective returns key's value in [section] as the tool sees it: the first
// override file that sets it (Config, then Legacy), else the shipped
// Defaults; and the file it came from ("" when unset everywhere).
func (da dnfAutomatic) effective(r interface{ ReadFile(string) ([]byte, error) }, section, key string) (value, from string) {
	for _, f := range append(append([]string{da.Config}, da.Legacy...), da.Defaults) {
		if f == "" {
			continue
		}
		data, err := r.ReadFile(f)
		if err != nil {
			continue
		}
		if v, ok := ini.Parse(string(data), ini.DNF).Get(section, key); ok {
			return v, f
		}
	}
	return "", ""
}

// knowsReboot reports whether this dnf automatic has the reboot option:
// dnf5's plugin and dnf4's from 4.14.0-6 (RHEL 9.3, upstream 4.15) ship it in
// their automatic.conf's [commands] (set, or documented as "#reboot = ");
// older ones (AlmaLinux 9.2's 4.14.0-5) have no such key and ignore it. Unknown (no shipped file yet: the package is about to
// be installed) counts as known, as on every current release.
func (da dnfAutomatic) knowsReboot(r interface{ ReadFile(string) ([]byte, error) }) bool {
	shipped := da.Defaults
	if shipped == "" {
		shipped = da.Config // dnf4's only file
	}
	data, err := r.ReadFile(shipped)
	if err != nil || hardbakeWrote(data) {
		return true
	}
	return ini.Parse(string(data), ini.DNF).Mentions("commands", "reboot")
}

// hardbakeWrote reports whether hardbake created this override file (its
// first line), as opposed to the package shipping it.
func hardbakeWrote(data []byte) bool {
	return strings.HasPrefix(string(data), dnfOverrideHeader)
}

const dnfOverrideHeader = "# Written by hardbake: host overrides of dnf automatic's defaults.\n"

// dnfAutomaticSettings are the [commands] values hardbake sets; reboot only
// where dnf automatic knows the option.
func dnfAutomaticSettings(p profile.Updates, knowsReboot bool) [][2]string {
	settings := [][2]string{{"upgrade_type", "security"}, {"download_updates", "yes"}, {"apply_updates", "yes"}}
	if !knowsReboot {
		return settings
	}
	reboot := "never"
	if p.AutomaticReboot {
		reboot = "when-needed"
	}
	return append(settings, [2]string{"reboot", reboot})
}
