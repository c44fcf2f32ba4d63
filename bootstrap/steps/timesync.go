package steps

import (
	"context"
	"fmt"
	"path"
	"slices"
	"sort"
	"strings"

	"github.com/hardbake/hardbake/bootstrap/distro"
	"github.com/hardbake/hardbake/bootstrap/report"
)

// TimeSync keeps exactly one time synchronisation daemon, enabled at boot
// (CIS 2.3). With timesync.daemon: auto it keeps the one the image has (a
// cloud image may come with chrony set up for its provider) and installs
// the distribution's default only when there is none (chrony where
// systemd is not the init system: timesyncd needs it). It never removes a
// daemon itself; choosing chrony or systemd-timesyncd explicitly installs
// that one, and apt takes the other away (both conflict with time-daemon).
type TimeSync struct{}

// Name implements Step.
func (TimeSync) Name() string { return "timesync" }

// timeDaemons are the time synchronisation packages hardbake knows, in the
// order auto prefers them when an image has several.
var timeDaemons = []string{"chrony", "systemd-timesyncd", "ntpsec", "ntp", "openntpd"}

// TimesyncdDropIn is the systemd-timesyncd configuration hardbake writes.
const TimesyncdDropIn = "/etc/systemd/timesyncd.conf.d/50-hardbake.conf"

// ChronySources is where Debian's chrony.conf reads extra sources from.
const ChronySources = "/etc/chrony/sources.d/hardbake.sources"

// timeUnit is the daemon's systemd unit.
func timeUnit(d distro.Info, pkg string) string {
	switch pkg {
	case "chrony":
		if d.PackageManager == "apt" {
			return "chrony.service"
		}
		return "chronyd.service"
	case "ntp":
		if d.PackageManager == "apt" {
			return "ntp.service"
		}
		return "ntpd.service"
	}
	return pkg + ".service"
}

// daemon returns the time daemon the profile wants and the ones installed.
func (TimeSync) daemon(ctx context.Context, env *Env) (want string, have []string, err error) {
	got, err := installed(ctx, env, timeDaemons...)
	if err != nil {
		return "", nil, err
	}
	for _, d := range timeDaemons {
		if got[d] {
			have = append(have, d)
		}
	}
	// Arch builds systemd-timesyncd into the systemd package.
	if env.Distro.PackageManager == "pacman" {
		if sd, err := installed(ctx, env, "systemd"); err != nil {
			return "", nil, err
		} else if sd["systemd"] && !slices.Contains(have, "systemd-timesyncd") {
			have = append(have, "systemd-timesyncd")
		}
	}
	switch want = env.Profile.TimeSync.Daemon; {
	case want != "auto":
	case len(have) > 0:
		want = have[0]
	case env.Distro.PackageManager == "dnf", env.Distro.ServiceManager != distro.Systemd:
		// systemd-timesyncd needs systemd as init: without it (Debian with
		// sysvinit-core) chrony, which ships an init script.
		want = "chrony"
	default:
		want = "systemd-timesyncd"
	}
	return want, have, nil
}

// fallbackNTP is the distribution's built-in FallbackNTP as its stock
// timesyncd.conf documents it ("#FallbackNTP=0.debian.pool.ntp.org ...").
func fallbackNTP(text string) string {
	for _, l := range strings.Split(text, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(l), "#FallbackNTP="); ok {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// timesyncdConfig is hardbake's drop-in: the profile's servers, and the
// distribution's fallback servers written out (the same ones timesyncd
// uses built in when neither the configuration nor DHCP names one), so the
// configuration says which servers the host asks.
func timesyncdConfig(servers []string, fallback string) string {
	if len(servers) == 0 && fallback == "" {
		return ""
	}
	var b strings.Builder
	b.WriteString("# Written by hardbake (timesync step); rewritten on every bake.\n[Time]\n")
	if len(servers) > 0 {
		fmt.Fprintf(&b, "NTP=%s\n", strings.Join(servers, " "))
	}
	if fallback != "" {
		fmt.Fprintf(&b, "FallbackNTP=%s\n", fallback)
	}
	return b.String()
}

// timesyncdServers evaluates timesyncd's configuration as systemd reads it:
// the main file, then the drop-ins of every configuration directory sorted
// by file name (one in /etc hides one of the same name elsewhere); a later
// assignment replaces an earlier one, an empty one resets.
func timesyncdServers(env *Env) (ntp, fallback string) {
	files := []string{"/etc/systemd/timesyncd.conf"}
	byName := map[string]string{}
	for _, dir := range []string{"/usr/lib", "/usr/local/lib", "/run", "/etc"} {
		m, _ := env.Root.Glob(dir + "/systemd/timesyncd.conf.d/*.conf")
		for _, f := range m {
			byName[path.Base(f)] = f
		}
	}
	names := make([]string, 0, len(byName))
	for n := range byName {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		files = append(files, byName[n])
	}
	for _, f := range files {
		data, _ := env.Root.ReadFile(f)
		section := ""
		for _, l := range strings.Split(string(data), "\n") {
			l = strings.TrimSpace(l)
			if strings.HasPrefix(l, "[") {
				section = l
				continue
			}
			k, v, ok := strings.Cut(l, "=")
			if !ok || section != "[Time]" || strings.HasPrefix(l, "#") || strings.HasPrefix(l, ";") {
				continue
			}
			switch strings.TrimSpace(k) {
			case "NTP":
				ntp = strings.TrimSpace(v)
			case "FallbackNTP":
				fallback = strings.TrimSpace(v)
			}
		}
	}
	return ntp, fallback
}

// chronyServers is the sources file of the profile's servers.
func chronyServers(servers []string) string {
	var b strings.Builder
	b.WriteString("# Written by hardbake (timesync step); rewritten on every bake.\n")
	for _, s := range servers {
		fmt.Fprintf(&b, "server %s iburst\n", s)
	}
	return b.String()
}

// chronyReadsSources reports whether chrony.conf reads /etc/chrony/sources.d
// (Debian's does; the RHEL family's names its servers in chrony.conf).
func chronyReadsSources(env *Env) bool {
	data, _ := env.Root.ReadFile("/etc/chrony/chrony.conf")
	for _, l := range strings.Split(string(data), "\n") {
		if f := strings.Fields(l); len(f) == 2 && f[0] == "sourcedir" && f[1] == "/etc/chrony/sources.d" {
			return true
		}
	}
	return false
}

func (t TimeSync) configure(ctx context.Context, env *Env) ([]Action, error) {
	want, _, err := t.daemon(ctx, env)
	if err != nil {
		return nil, err
	}
	servers := env.Profile.TimeSync.Servers
	var actions []Action
	switch want {
	case "systemd-timesyncd":
		stock, _ := env.Root.ReadFile("/etc/systemd/timesyncd.conf")
		if text := timesyncdConfig(servers, fallbackNTP(string(stock))); text != "" {
			a, err := WriteFile(env.Root, TimesyncdDropIn, []byte(text), 0o644, "systemd-timesyncd: the NTP servers it asks")
			if err != nil {
				return nil, err
			}
			actions = appendAction(actions, a)
		}
	case "chrony":
		if len(servers) > 0 && chronyReadsSources(env) {
			a, err := WriteFile(env.Root, ChronySources, []byte(chronyServers(servers)), 0o644, "chrony: the profile's NTP servers")
			if err != nil {
				return nil, err
			}
			actions = appendAction(actions, a)
		}
	}
	unit := timeUnit(env.Distro, want)
	actions = appendAction(actions, enableAction(env, "start "+want+" at boot", unit))
	if env.Live() && len(actions) > 0 {
		actions = append(actions, restartAction(env, "synchronise with the configured servers now", unit))
	}
	return actions, nil
}

// packages is the daemon to install: the wanted one when missing.
func (t TimeSync) packages(ctx context.Context, env *Env) ([][]string, error) {
	want, have, err := t.daemon(ctx, env)
	if err != nil || slices.Contains(have, want) {
		return nil, err
	}
	if want == "systemd-timesyncd" && env.Distro.PackageManager == "pacman" {
		return [][]string{{"systemd"}}, nil
	}
	return [][]string{{want}}, nil
}

// Plan implements Step.
func (t TimeSync) Plan(ctx context.Context, env *Env) ([]Action, error) {
	pkgs, err := t.packages(ctx, env)
	if err != nil {
		return nil, err
	}
	return planWithPackages(ctx, env, "install the time synchronisation daemon", pkgs,
		func() ([]Action, error) { return t.configure(ctx, env) })
}

// Apply implements Step.
func (t TimeSync) Apply(ctx context.Context, env *Env) ([]report.Change, error) {
	pkgs, err := t.packages(ctx, env)
	if err != nil {
		return nil, err
	}
	return applyWithPackages(ctx, env, "install the time synchronisation daemon", pkgs,
		func() ([]Action, error) { return t.configure(ctx, env) })
}

// packageRule is SSG's rule that the daemon is installed, and its service rule.
var packageRule = map[string][2]string{
	"chrony":            {"ssg:package_chrony_installed", "ssg:service_chronyd_enabled"},
	"systemd-timesyncd": {"ssg:package_timesyncd_installed", "ssg:service_timesyncd_enabled"},
}

// Check implements Step.
func (t TimeSync) Check(ctx context.Context, env *Env) ([]report.Check, error) {
	want, have, err := t.daemon(ctx, env)
	if err != nil {
		return nil, err
	}
	rules := packageRule[want]
	c := check("timesync.daemons", want, strings.Join(have, " "))
	c.Detail = "exactly one time synchronisation daemon installed"
	c.Refs = []string{rules[0], "ssg:ntp_single_service_active"}
	if len(have) == 0 {
		c.Got = "none"
	}
	unit := timeUnit(env.Distro, want)
	e := check("timesync.enabled_at_boot", "enabled", enabledWord(unitEnabled(env, unit)))
	e.Detail, e.Refs = unit, []string{rules[1]}
	checks := []report.Check{c, e}
	servers := strings.Join(env.Profile.TimeSync.Servers, " ")
	switch want {
	case "systemd-timesyncd":
		ntp, fallback := timesyncdServers(env)
		got := ntp
		if got == "" && fallback != "" {
			got = "fallback " + fallback
		}
		wantServers := servers
		if wantServers == "" {
			wantServers = "any"
			if got != "" {
				wantServers = got
			}
		}
		s := check("timesync.servers", wantServers, got)
		if got == "" {
			s.Got = "none configured (DHCP only)"
		}
		s.Refs = []string{"ssg:service_timesyncd_configured"}
		checks = append(checks, s)
	case "chrony":
		if servers != "" {
			data, _ := env.Root.ReadFile(ChronySources)
			s := check("timesync.servers", servers, strings.Join(chronyServerNames(string(data)), " "))
			s.Refs = []string{"ssg:chronyd_configure_pool_and_server"}
			if !chronyReadsSources(env) {
				s.Severity, s.Detail = report.Warn, "chrony.conf does not read /etc/chrony/sources.d: name the servers in chrony.conf"
			}
			checks = append(checks, s)
		}
	}
	if env.Live() {
		a := check("timesync.running", "active", serviceState(ctx, env, unit))
		a.Refs = []string{rules[1]}
		checks = append(checks, a)
	}
	return checks, nil
}

func chronyServerNames(text string) []string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		if f := strings.Fields(l); len(f) >= 2 && (f[0] == "server" || f[0] == "pool") {
			out = append(out, f[1])
		}
	}
	return out
}

// Deviations implements Deviator: SSG's CIS content checks for both chrony
// and systemd-timesyncd, which exclude each other.
func (t TimeSync) Deviations(env *Env) []report.Deviation {
	want, _, err := t.daemon(context.Background(), env)
	if err != nil {
		return nil
	}
	switch want {
	case "systemd-timesyncd":
		return []report.Deviation{{Refs: []string{"ssg:package_chrony_installed"},
			Reason: "systemd-timesyncd is the time daemon (CIS accepts either, exactly one): chrony would replace it (the packages conflict)"}}
	case "chrony":
		return []report.Deviation{{Refs: []string{"ssg:package_timesyncd_installed"},
			Reason: "chrony is the time daemon (CIS accepts either, exactly one): systemd-timesyncd would replace it (the packages conflict)"}}
	}
	return nil
}
