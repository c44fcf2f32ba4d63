package steps

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/hardbake/hardbake/bootstrap/distro"
	"github.com/hardbake/hardbake/bootstrap/profile"
	"github.com/hardbake/hardbake/bootstrap/report"
	"github.com/hardbake/hardbake/bootstrap/runner"
)

// Mounts mounts /tmp and /dev/shm without device files, setuid programs or
// executables (CIS 1.1.2), through /etc/fstab, from the image's next boot.
// Nothing is remounted during a bake: Packer uploads its scripts (and
// hardbake) to /tmp and runs them from there, so a noexec /tmp now would
// break the build that is running. At boot systemd-fstab-generator turns the
// /tmp line into tmp.mount (its unit in /run wins over the tmp.mount Debian 13
// ships in /usr/lib), and systemd-remount-fs applies the /dev/shm line to the
// /dev/shm systemd mounted early.
type Mounts struct{}

// Name implements Step.
func (Mounts) Name() string { return "mounts" }

// Fstab is the file systems table.
const Fstab = "/etc/fstab"

// managedMount is one mount point this step manages.
type managedMount struct {
	key   string // profile and check name: tmp, dev_shm
	where string
	rule  string // SSG rule stem: mount_option_<rule>_<option>
	base  []string
	knobs func(*profile.Mounts) profile.Mount
}

// managedMounts: a tmpfs hardbake adds for /tmp has the mode and timestamps
// of systemd's own tmp.mount; /dev/shm's line carries only the restricting
// options (systemd mounted it with mode 1777 already, and a remount does
// not change the mode).
var managedMounts = []managedMount{
	{"tmp", "/tmp", "tmp", []string{"mode=1777", "strictatime"}, func(p *profile.Mounts) profile.Mount { return p.Tmp }},
	{"dev_shm", "/dev/shm", "dev_shm", nil, func(p *profile.Mounts) profile.Mount { return p.DevShm }},
}

func (m managedMount) refs(options []string) []string {
	var refs []string
	for _, o := range options {
		refs = append(refs, "ssg:mount_option_"+m.rule+"_"+o)
	}
	return append(refs, "ssg:partition_for_"+m.rule)
}

// wanted splits the managed mounts into the fstab wishes of the enabled
// ones and the mount points of the disabled ones.
func (Mounts) wanted(env *Env) (want []fstabMount, drop []string) {
	for _, m := range managedMounts {
		k := m.knobs(&env.Profile.Mounts)
		if !k.Enabled {
			drop = append(drop, m.where)
			continue
		}
		want = append(want, fstabMount{Where: m.where, Options: k.Options, Size: k.Size, Base: m.base})
	}
	return want, drop
}

// Plan implements Step.
func (s Mounts) Plan(ctx context.Context, env *Env) ([]Action, error) {
	old, err := env.Root.ReadFile(Fstab)
	if err != nil && !isNotExist(err) {
		return nil, err
	}
	want, drop := s.wanted(env)
	text, lines := fstabWith(string(old), want, drop)
	a, err := WriteFile(env.Root, Fstab, []byte(text), 0o644, "/tmp and /dev/shm without devices, setuid programs or executables from the next boot")
	if err != nil || a == nil {
		return nil, err
	}
	var actions []Action
	if mask := holdTmpMount(env, want); mask != nil {
		actions = append(actions, *mask)
	}
	actions = append(actions, *a)
	if env.CanRun() {
		if _, ok := runner.Lookup(env.Root.HostPath("/"), "findmnt"); ok {
			actions = append(actions, Action{
				Kind: "validate", Summary: "findmnt --verify parses hardbake's fstab lines", Cmd: findmntVerify,
				Validate: func(ctx context.Context) error { return fstabParses(ctx, env, lines) },
			})
		}
	}
	return actions, nil
}

// holdTmpMount keeps the new /tmp line from taking effect before the next
// boot on a running systemd host whose /tmp is not a mount point (a Packer
// build VM). Once any package script runs daemon-reload, the fstab line is
// tmp.mount, and starting any service with PrivateTmp= (systemd-timesyncd
// restarted by the timesync step, say) pulls it in: an empty noexec tmpfs
// over /tmp would hide the running build's files, hardbake's own report
// directory among them. A runtime mask lives in /run and is gone at reboot.
func holdTmpMount(env *Env, want []fstabMount) *Action {
	if !env.Live() || env.Distro.ServiceManager != distro.Systemd ||
		!slices.ContainsFunc(want, func(m fstabMount) bool { return m.Where == "/tmp" }) {
		return nil
	}
	info, _ := env.Root.ReadFile("/proc/self/mountinfo")
	if _, mounted := mountinfoOptions(string(info), "/tmp"); mounted {
		return nil
	}
	return &Action{Kind: "run", Cmd: cmd("systemctl", "mask", "--runtime", "tmp.mount"),
		Summary: "no tmpfs over /tmp before the next boot (a runtime mask): the running build's files in /tmp stay"}
}

// findmntVerify is util-linux's fstab check: the target's own libmount
// parses the file as mount and systemd will.
var findmntVerify = cmd("findmnt", "--verify", "--tab-file", Fstab)

// parseErrorLine is how findmnt reports a line libmount cannot parse.
var parseErrorLine = regexp.MustCompile(`parse error at line (\d+)`)

// fstabParses runs findmnt --verify and fails when libmount cannot parse a
// line hardbake wrote. findmnt's other findings (an unreachable UUID in a
// chroot, say) concern the admin's lines and are not ours to judge.
func fstabParses(ctx context.Context, env *Env, lines map[int]string) error {
	res, err := env.Run.Run(ctx, findmntVerify)
	var ee *runner.ExitError
	if err != nil && !errors.As(err, &ee) {
		return err
	} else if ee != nil {
		res = ee.Result
	}
	for _, m := range parseErrorLine.FindAllStringSubmatch(string(res.Stdout)+string(res.Stderr), -1) {
		n, _ := strconv.Atoi(m[1])
		if where, ours := lines[n]; ours {
			return fmt.Errorf("libmount cannot parse line %d of %s (%s)", n, Fstab, where)
		}
	}
	return nil
}

// Apply implements Step.
func (s Mounts) Apply(ctx context.Context, env *Env) ([]report.Change, error) {
	actions, err := s.Plan(ctx, env)
	if err != nil {
		return nil, err
	}
	return Execute(ctx, env, actions)
}

// bootOptions are the options m will be mounted with at the next boot, as
// systemd reads its configuration, and where they come from.
func bootOptions(env *Env, m managedMount) (opts []string, from string) {
	if m.where == "/tmp" {
		// An admin's unit in /etc wins over fstab's generated one.
		if u, err := env.Root.Lstat("/etc/systemd/system/tmp.mount"); err == nil {
			if t, _ := env.Root.Resolve("/etc/systemd/system/tmp.mount"); t == "/dev/null" || u.Size() == 0 {
				return nil, "/etc/systemd/system/tmp.mount masks it: /tmp stays on the root file system"
			}
			data, _ := env.Root.ReadFile("/etc/systemd/system/tmp.mount")
			return unitOptions(string(data)), "/etc/systemd/system/tmp.mount"
		}
	}
	fstab, _ := env.Root.ReadFile(Fstab)
	var found *fstabEntry
	for _, e := range parseFstab(string(fstab)) {
		if e.Where == m.where && found == nil {
			// systemd-fstab-generator keeps the first line of a mount point.
			found = &e
		}
	}
	if found != nil {
		return found.Options, fmt.Sprintf("%s line %d", Fstab, found.Line)
	}
	switch m.where {
	case "/tmp":
		for _, dir := range []string{"/usr/lib/systemd/system", "/lib/systemd/system"} {
			if wants, _ := env.Root.Glob(dir + "/*.wants/tmp.mount"); len(wants) > 0 {
				data, _ := env.Root.ReadFile(dir + "/tmp.mount")
				return unitOptions(string(data)), dir + "/tmp.mount"
			}
		}
		return nil, "no mount: /tmp is a directory of the root file system"
	case "/dev/shm":
		if env.Distro.ServiceManager == distro.Systemd {
			// systemd's mount_table (src/shared/mount-setup.c).
			return []string{"nosuid", "nodev", "strictatime", "mode=1777"}, "systemd's own /dev/shm mount"
		}
	}
	return nil, "not configured"
}

// unitOptions is the last Options= of a mount unit's text.
func unitOptions(text string) []string {
	var opts []string
	for _, l := range strings.Split(text, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(l), "Options="); ok {
			opts = strings.Split(strings.ReplaceAll(strings.TrimSpace(v), "%%", "%"), ",")
		}
	}
	return opts
}

// restricting lists which of want the options put in force (a later
// opposite undoes an earlier one, as mount reads them).
func restricting(opts, want []string) []string {
	var out []string
	for _, w := range want {
		on := false
		for _, o := range opts {
			switch o {
			case w:
				on = true
			case opposite[w], "defaults":
				on = false
			}
		}
		if on {
			out = append(out, w)
		}
	}
	return out
}

// Check implements Step.
func (s Mounts) Check(ctx context.Context, env *Env) ([]report.Check, error) {
	var checks []report.Check
	for _, m := range managedMounts {
		k := m.knobs(&env.Profile.Mounts)
		if !k.Enabled || len(k.Options) == 0 {
			continue
		}
		want := strings.Join(k.Options, ",")
		opts, from := bootOptions(env, m)
		c := check("mounts."+m.key+".boot_options", want, strings.Join(restricting(opts, k.Options), ","))
		c.Detail, c.Refs = "at the next boot, from "+from, m.refs(k.Options)
		checks = append(checks, c)
		if env.Live() {
			info, _ := env.Root.ReadFile("/proc/self/mountinfo")
			live, mounted := mountinfoOptions(string(info), m.where)
			got := strings.Join(restricting(live, k.Options), ",")
			if !mounted {
				got = "not a mount point"
			}
			c := check("mounts."+m.key+".live_options", want, got)
			c.Refs = m.refs(k.Options)
			if !c.OK {
				// The bake changed fstab only: the next boot mounts it.
				c.Severity, c.Detail = report.Warn, "as mounted now (findmnt "+m.where+"); the configuration takes effect at the next boot"
			}
			checks = append(checks, c)
		}
	}
	if env.CanRun() {
		if _, ok := runner.Lookup(env.Root.HostPath("/"), "findmnt"); ok {
			fstab, _ := env.Root.ReadFile(Fstab)
			ours := map[int]string{}
			for _, e := range parseFstab(string(fstab)) {
				for _, m := range managedMounts {
					if e.Where == m.where {
						ours[e.Line] = m.where
					}
				}
			}
			c := check("mounts.fstab_parses", "yes", "yes")
			if err := fstabParses(ctx, env, ours); err != nil {
				c = check("mounts.fstab_parses", "yes", err.Error())
			}
			checks = append(checks, c)
		}
	}
	return checks, nil
}

// separatePartitions are the CIS partition rules of a disk layout: the image
// builder's choice, not a setting (Level 2, except /tmp and /dev/shm).
var separatePartitions = []string{
	"ssg:partition_for_var", "ssg:partition_for_var_tmp", "ssg:partition_for_var_log",
	"ssg:partition_for_var_log_audit", "ssg:partition_for_home",
}

// Deviations implements Deviator.
func (Mounts) Deviations(env *Env) []report.Deviation {
	out := []report.Deviation{{Refs: separatePartitions,
		Reason: "separate partitions for /var, /var/tmp, /var/log, /var/log/audit and /home are the disk layout the image builder chooses; hardbake does not repartition an image"}}
	var unseen []string
	for _, m := range managedMounts {
		if m.knobs(&env.Profile.Mounts).Enabled {
			unseen = append(unseen, "ssg:partition_for_"+m.rule)
		}
	}
	if !env.Live() && len(unseen) > 0 {
		out = append(out, report.Deviation{Refs: unseen, OfflineOnly: true,
			Reason: "a limit of offline scans, not of the image: OpenSCAP's partition probe reads the scanned system's /proc/mounts, which an image or --root directory does not have; at boot /tmp and /dev/shm are tmpfs mounts (mounts.*.boot_options here, mounts.*.live_options on the booted machine)"})
	}
	for _, m := range managedMounts {
		k := m.knobs(&env.Profile.Mounts)
		if !k.Enabled {
			out = append(out, report.Deviation{Refs: m.refs(profile.MountOptions),
				Reason: fmt.Sprintf("mounts.%s.enabled is false: %s is left as the image mounts it", m.key, m.where)})
			continue
		}
		var off []string
		for _, o := range profile.MountOptions {
			if !slices.Contains(k.Options, o) {
				off = append(off, o)
			}
		}
		if len(off) > 0 {
			refs := m.refs(off)
			out = append(out, report.Deviation{Refs: refs[:len(refs)-1],
				Reason: fmt.Sprintf("mounts.%s.options leaves out %s: programs on this image need it on %s", m.key, strings.Join(off, ", "), m.where)})
		}
	}
	return out
}
