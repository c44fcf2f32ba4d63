package steps

import (
	"context"
	"fmt"
	"strings"

	"github.com/hardbake/hardbake/bootstrap/report"
	"github.com/hardbake/hardbake/bootstrap/runner"
)

// MAC turns mandatory access control on at boot (CIS 1.3): AppArmor on
// Debian and Ubuntu (its packages installed, apparmor.service enabled, and
// apparmor=1 security=apparmor on the kernel command line where GRUB boots
// the image), SELinux enforcing on Fedora and the RHEL family. It loads the
// profiles the packages ship in the mode they ship in and never puts one
// into enforce mode itself: a wrong profile could stop sshd, cloud-init or
// the DHCP client at boot.
type MAC struct{}

// Name implements Step.
func (MAC) Name() string { return "mac" }

// appArmorPackages are what SSG's CIS content wants installed.
var appArmorPackages = []string{"apparmor", "apparmor-utils"}

// GrubAppArmor is the GRUB drop-in that adds AppArmor's boot parameters.
// update-grub sources /etc/default/grub, then every /etc/default/grub.d/*.cfg.
const GrubAppArmor = "/etc/default/grub.d/50-hardbake-apparmor.cfg"

const grubAppArmorText = `# Written by hardbake (mac step); rewritten on every bake.
# AppArmor on at boot, as CIS asks (Debian's kernel has it on by default).
GRUB_CMDLINE_LINUX="$GRUB_CMDLINE_LINUX apparmor=1 security=apparmor"
`

// grubConfigs are the GRUB configurations an image may boot with.
var grubConfigs = []string{"/boot/grub/grub.cfg", "/boot/grub2/grub.cfg"}

// grubBoots reports whether the image boots with GRUB that update-grub
// configures: the tool, its defaults file and a generated grub.cfg exist.
func grubBoots(env *Env) (cfg string, ok bool) {
	if _, found := runner.Lookup(env.Root.HostPath("/"), "update-grub"); !found || !env.Root.Exists("/etc/default/grub") {
		return "", false
	}
	for _, c := range grubConfigs {
		if env.Root.Exists(c) {
			return c, true
		}
	}
	return "", false
}

// linuxLinesWith reports whether every "linux" line of a grub.cfg carries
// all params, and how many linux lines there are.
func linuxLinesWith(cfg string, params ...string) (all bool, n int) {
	all = true
	for _, l := range strings.Split(cfg, "\n") {
		f := strings.Fields(l)
		if len(f) == 0 || (f[0] != "linux" && f[0] != "linuxefi") {
			continue
		}
		n++
		for _, p := range params {
			found := false
			for _, x := range f[1:] {
				found = found || x == p
			}
			all = all && found
		}
	}
	return all && n > 0, n
}

// kernelAppArmor reads a kernel's build configuration (/boot/config-*):
// AppArmor is built in and first among the exclusive security modules of
// CONFIG_LSM, so it is active at boot without any parameter.
func kernelAppArmor(config string) (builtIn, byDefault bool) {
	var lsm []string
	for _, l := range strings.Split(config, "\n") {
		switch {
		case l == "CONFIG_SECURITY_APPARMOR=y":
			builtIn = true
		case strings.HasPrefix(l, "CONFIG_LSM="):
			lsm = strings.Split(strings.Trim(strings.TrimPrefix(l, "CONFIG_LSM="), `"`), ",")
		}
	}
	for _, m := range lsm {
		switch m {
		case "apparmor":
			return builtIn, builtIn
		case "selinux", "smack", "tomoyo":
			// The first exclusive module listed wins.
			return builtIn, false
		}
	}
	return builtIn, false
}

func (m MAC) appArmorActions(env *Env) ([]Action, error) {
	var actions []Action
	actions = appendAction(actions, enableAction(env, "load the AppArmor profiles at boot", "apparmor.service"))
	if !env.Profile.MAC.BootParameters {
		return actions, nil
	}
	cfg, ok := grubBoots(env)
	if !ok {
		return actions, nil
	}
	a, err := WriteFile(env.Root, GrubAppArmor, []byte(grubAppArmorText), 0o644, "GRUB: apparmor=1 security=apparmor on the kernel command line")
	if err != nil {
		return nil, err
	}
	actions = appendAction(actions, a)
	data, _ := env.Root.ReadFile(cfg)
	if has, _ := linuxLinesWith(string(data), "apparmor=1", "security=apparmor"); a != nil || !has {
		actions = append(actions,
			Action{Kind: "run", Cmd: cmd("update-grub"), Summary: "regenerate " + cfg + " with the AppArmor parameters"},
			// grub-mkconfig may write grub.cfg readable by all: keep it
			// as the files step left it (CIS: no access for group and others).
			Action{Kind: "run", Path: cfg, Cmd: cmd("chmod", "go-rwx", cfg), Summary: cfg + " readable by root only"})
	}
	return actions, nil
}

func (MAC) selinuxActions(env *Env) ([]Action, error) {
	data, err := env.Root.ReadFile(SELinuxConfig)
	if err != nil {
		if isNotExist(err) {
			return nil, nil // Check reports it; installing a policy needs a full relabel.
		}
		return nil, err
	}
	if selinuxSetting(string(data), "SELINUX") != "permissive" {
		return nil, nil
	}
	text := selinuxEnforcing(string(data))
	a, err := WriteFile(env.Root, SELinuxConfig, []byte(text), 0o644, "SELinux enforcing from the next boot")
	if err != nil {
		return nil, err
	}
	return appendAction(nil, a), nil
}

// selinuxEnforcing turns the SELINUX=permissive line of /etc/selinux/config
// into SELINUX=enforcing, keeping every other line.
func selinuxEnforcing(text string) string {
	lines := strings.Split(text, "\n")
	for i, l := range lines {
		if k, v, ok := strings.Cut(strings.TrimSpace(l), "="); ok && strings.TrimSpace(k) == "SELINUX" &&
			strings.ToLower(strings.Trim(strings.TrimSpace(v), `"'`)) == "permissive" {
			lines[i] = "SELINUX=enforcing"
		}
	}
	return strings.Join(lines, "\n")
}

// family says which mechanism applies: apparmor, selinux or "".
func macFamily(env *Env) string {
	switch env.Distro.PackageManager {
	case "apt":
		return "apparmor"
	case "dnf":
		return "selinux"
	}
	return ""
}

func (m MAC) packages(env *Env) [][]string {
	if env.Profile.MAC.Enabled && macFamily(env) == "apparmor" {
		return [][]string{appArmorPackages}
	}
	return nil
}

func (m MAC) configure(env *Env) ([]Action, error) {
	if !env.Profile.MAC.Enabled {
		return nil, nil
	}
	switch macFamily(env) {
	case "apparmor":
		return m.appArmorActions(env)
	case "selinux":
		return m.selinuxActions(env)
	}
	return nil, nil
}

// Plan implements Step.
func (m MAC) Plan(ctx context.Context, env *Env) ([]Action, error) {
	return planWithPackages(ctx, env, "install AppArmor", m.packages(env), func() ([]Action, error) { return m.configure(env) })
}

// Apply implements Step.
func (m MAC) Apply(ctx context.Context, env *Env) ([]report.Change, error) {
	return applyWithPackages(ctx, env, "install AppArmor", m.packages(env), func() ([]Action, error) { return m.configure(env) })
}

// Check implements Step.
func (m MAC) Check(ctx context.Context, env *Env) ([]report.Check, error) {
	if !env.Profile.MAC.Enabled {
		return nil, nil
	}
	switch macFamily(env) {
	case "apparmor":
		return m.appArmorChecks(ctx, env)
	case "selinux":
		return m.selinuxChecks(ctx, env), nil
	}
	return nil, nil
}

func (m MAC) appArmorChecks(ctx context.Context, env *Env) ([]report.Check, error) {
	pc, err := packagesCheck(ctx, env, "mac.apparmor_packages", appArmorPackages)
	if err != nil {
		return nil, err
	}
	pc.Refs = []string{"ssg:package_apparmor_installed", "ssg:package_apparmor-utils_installed"}
	en := check("mac.apparmor_enabled_at_boot", "enabled", enabledWord(unitEnabled(env, "apparmor.service")))
	checks := []report.Check{pc, en}
	// The kernels the image can boot: AppArmor built in and on by default.
	configs, _ := env.Root.Glob("/boot/config-*")
	for _, c := range configs {
		data, _ := env.Root.ReadFile(c)
		builtIn, on := kernelAppArmor(string(data))
		got := "on by default (CONFIG_LSM)"
		switch {
		case !builtIn:
			got = "not built in"
		case !on:
			got = "built in, off unless security=apparmor"
		}
		k := check("mac.kernel "+strings.TrimPrefix(c, "/boot/config-"), "on by default (CONFIG_LSM)", got)
		if !on && builtIn {
			k.OK = m.bootParametersSet(env)
			k.Detail = "GRUB passes apparmor=1 security=apparmor"
		}
		checks = append(checks, k)
	}
	if cfg, ok := grubBoots(env); ok && env.Profile.MAC.BootParameters {
		data, _ := env.Root.ReadFile(cfg)
		has, n := linuxLinesWith(string(data), "apparmor=1", "security=apparmor")
		c := check("mac.grub_apparmor", "apparmor=1 security=apparmor", map[bool]string{true: "apparmor=1 security=apparmor", false: "missing"}[has])
		c.Detail, c.Refs = fmt.Sprintf("%s, %d kernel lines", cfg, n), []string{"ssg:grub2_enable_apparmor"}
		checks = append(checks, c)
	}
	if env.Live() {
		enabled, _ := env.Root.ReadFile("/sys/module/apparmor/parameters/enabled")
		checks = append(checks, check("mac.apparmor_active", "Y", strings.TrimSpace(string(enabled))))
		profiles, _ := env.Root.ReadFile("/sys/kernel/security/apparmor/profiles")
		enforce, complain, unconfined, other := appArmorModes(string(profiles))
		c := check("mac.apparmor_profiles", "every profile in enforce or complain mode",
			fmt.Sprintf("%d enforce, %d complain, %d unconfined, %d other", enforce, complain, unconfined, other))
		c.OK = unconfined+other == 0
		c.Refs = []string{"ssg:all_apparmor_profiles_in_enforce_complain_mode"}
		if other == 0 && unconfined > 0 {
			// Debian 13's apparmor ships such profiles on purpose (a deviation).
			c.Severity, c.Detail = report.Warn, "profiles shipped with flags=(unconfined): they grant applications user namespaces, they do not confine them"
		}
		checks = append(checks, c)
	}
	return checks, nil
}

// bootParametersSet reports whether GRUB passes AppArmor's parameters.
func (MAC) bootParametersSet(env *Env) bool {
	cfg, ok := grubBoots(env)
	if !ok {
		return false
	}
	data, _ := env.Root.ReadFile(cfg)
	has, _ := linuxLinesWith(string(data), "apparmor=1", "security=apparmor")
	return has
}

// appArmorModes counts the loaded profiles by mode, from
// /sys/kernel/security/apparmor/profiles ("name (enforce)").
func appArmorModes(text string) (enforce, complain, unconfined, other int) {
	for _, l := range strings.Split(text, "\n") {
		switch {
		case strings.TrimSpace(l) == "":
		case strings.HasSuffix(l, " (enforce)"):
			enforce++
		case strings.HasSuffix(l, " (complain)"):
			complain++
		case strings.HasSuffix(l, " (unconfined)"):
			unconfined++
		default:
			other++
		}
	}
	return
}

func (MAC) selinuxChecks(ctx context.Context, env *Env) []report.Check {
	data, err := env.Root.ReadFile(SELinuxConfig)
	mode, policy := "no "+SELinuxConfig, ""
	if err == nil {
		mode, policy = selinuxSetting(string(data), "SELINUX"), selinuxSetting(string(data), "SELINUXTYPE")
	}
	c := check("mac.selinux_mode", "enforcing", mode)
	c.Refs = []string{"ssg:selinux_state"}
	if mode == "disabled" {
		c.Severity = report.Warn
		c.Detail = "enabling SELinux on an image built without it needs a full relabel (touch /.autorelabel, reboot): hardbake leaves it to you; mac.enabled: false accepts it"
	}
	p := check("mac.selinux_policy", "targeted", policy)
	p.Refs = []string{"ssg:selinux_policytype"}
	checks := []report.Check{c, p}
	if env.Live() {
		res, _ := env.Run.Run(ctx, cmd("getenforce"))
		checks = append(checks, check("mac.selinux_active", "Enforcing", strings.TrimSpace(string(res.Stdout))))
	}
	return checks
}

// Deviations implements Deviator.
func (m MAC) Deviations(env *Env) []report.Deviation {
	if !env.Profile.MAC.Enabled {
		return []report.Deviation{{Refs: []string{"ssg:package_apparmor_installed", "ssg:package_apparmor-utils_installed", "ssg:grub2_enable_apparmor", "ssg:all_apparmor_profiles_in_enforce_complain_mode", "ssg:selinux_state"},
			Reason: "mac.enabled is false: mandatory access control is left as the image has it"}}
	}
	if macFamily(env) != "apparmor" {
		return nil
	}
	var out []report.Deviation
	if !env.Live() {
		out = append(out, report.Deviation{Refs: []string{"ssg:all_apparmor_profiles_in_enforce_complain_mode"}, OfflineOnly: true,
			Reason: "a limit of offline scans, not of the image: SSG counts the profiles the running kernel has loaded (/sys/kernel/security/apparmor/profiles), which an image or --root directory does not have; on the booted machine `hardbake audit` checks them (mac.apparmor_profiles)"})
	} else {
		profiles, _ := env.Root.ReadFile("/sys/kernel/security/apparmor/profiles")
		if _, _, unconfined, _ := appArmorModes(string(profiles)); unconfined > 0 {
			out = append(out, report.Deviation{Refs: []string{"ssg:all_apparmor_profiles_in_enforce_complain_mode"},
				Reason: fmt.Sprintf("%d loaded profiles are in the unconfined mode the distribution ships them in (Debian 13: flags=(unconfined) profiles that let desktop applications use user namespaces); hardbake changes no shipped profile", unconfined)})
		}
	}
	if _, ok := grubBoots(env); !ok {
		return append(out, report.Deviation{Refs: []string{"ssg:grub2_enable_apparmor"},
			Reason: "the image does not boot with GRUB (direct kernel boot or another loader), so there is no grub.cfg to carry apparmor=1 security=apparmor; Debian's kernel turns AppArmor on by default (CONFIG_LSM, checked as mac.kernel)"})
	}
	if !env.Profile.MAC.BootParameters {
		return append(out, report.Deviation{Refs: []string{"ssg:grub2_enable_apparmor"},
			Reason: "mac.boot_parameters is false: the kernel command line is left as it is; AppArmor is on by the kernel's default (mac.kernel)"})
	}
	return out
}
