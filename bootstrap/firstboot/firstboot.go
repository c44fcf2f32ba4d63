// Package firstboot applies per-host data once, on the first boot of a
// machine started from a baked image, before sshd starts: the admin user,
// its sudo rule and authorized keys, the SSH address family and port (through
// the ssh step, so there is one sshd editor), missing host keys, the host
// name. Every action is idempotent and the marker is written last with
// fsync, so a power cut at any point leaves a state the next boot completes.
package firstboot

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/hardbake/hardbake/bootstrap/host"
	"github.com/hardbake/hardbake/bootstrap/report"
	"github.com/hardbake/hardbake/bootstrap/root"
	"github.com/hardbake/hardbake/bootstrap/steps"
)

// Paths firstboot owns.
const (
	// Marker says the host data was applied; hardbake-firstboot.service
	// does not start while it exists.
	Marker = steps.FirstbootMarker
	// ProfileFile is the profile the image was baked with (written by the
	// firstboot step at bake), so firstboot re-derives the same sshd settings.
	ProfileFile = steps.BakedProfile
)

// Options are the inputs of one run.
type Options struct {
	Env     *steps.Env
	Sources host.Sources
	// Warn prints a loud warning (stderr, and the console when live).
	Warn func(msg string)
	// Version is recorded in the marker.
	Version string
}

// MarkerData is what the marker records: when, from where, for whom. Keys
// appear as fingerprints only.
type MarkerData struct {
	Version  string   `json:"version"`
	Time     string   `json:"time"`
	Kind     string   `json:"source_kind"`
	Source   string   `json:"source"`
	Consumed bool     `json:"consumed"`
	User     string   `json:"user,omitempty"`
	Keys     []string `json:"keys,omitempty"`
}

// Run applies the first host data found, one step after the other:
// account, authorized keys, sudo rule, host keys, sshd settings (validated
// by the target's sshd), host name, and the marker last. A step that
// fails stops the run before the marker, so the next boot does it again.
// Without any host data it only makes sure host keys exist and warns, and
// writes no marker, so that host data arriving later (cloud-init
// write_files + runcmd) is still applied.
func Run(ctx context.Context, o Options) (*report.Report, error) {
	start := time.Now()
	env := o.Env
	env.StartRun()
	rep := &report.Report{Command: "firstboot", Root: env.Root.String(), Distro: env.Distro}
	finish := func(err error) (*report.Report, error) {
		if err != nil {
			rep.Error = err.Error()
		}
		rep.Finish()
		if err != nil {
			rep.OK = false
		}
		return rep, err
	}
	if data, err := env.Root.ReadFile(Marker); err == nil {
		var m MarkerData
		json.Unmarshal(data, &m)
		logf(env, "firstboot: already done at %s (from %s); nothing to do", m.Time, m.Source)
		if m.Kind == "file" && env.Root.Writable() {
			// A run cut off between its marker and removing the host data
			// file it consumed left the file behind.
			if err := env.Root.Remove(host.File); err != nil {
				return finish(err)
			}
		}
		return finish(nil)
	}
	found, findErr := host.Find(o.Sources, &host.Target{Root: env.Root, Distro: env.Distro})
	if findErr != nil {
		// Bad input changes nothing, except that a live host still gets
		// host keys: sshd must start with the baked config either way.
		if env.Live() {
			st := report.Step{Name: "host_keys"}
			st.Changes, _ = steps.HealHostKeys(ctx, env, env.Profile.SSH.HostKeyTypes, "")
			rep.Steps = append(rep.Steps, st)
		}
		return finish(findErr)
	}
	var h *host.Host
	if found != nil {
		h = found.Host
		logf(env, "firstboot: host data from %s (%s)", found.Source, since(start))
	} else {
		logf(env, "firstboot: no host data (--config, %s, NoCloud seed)", host.File)
	}

	// Each step runs only when the one before it succeeded.
	do := func(name string, fn func() ([]report.Change, error)) error {
		st, err := runStep(env, name, fn)
		rep.Steps = append(rep.Steps, *st)
		return err
	}
	doStep := func(fn func() (*report.Step, error)) error {
		st, err := fn()
		if st != nil {
			rep.Steps = append(rep.Steps, *st)
		}
		return err
	}
	if h != nil && h.HasUser() {
		var acct *account
		err := do("user", func() (c []report.Change, err error) {
			c, acct, err = ensureUser(ctx, env, h.User)
			return c, err
		})
		if err == nil {
			err = do("authorized_keys", func() ([]report.Change, error) { return writeAuthorizedKeys(env, acct, h) })
		}
		if err == nil {
			err = do("selinux_labels", func() ([]report.Change, error) { return relabelSSHDir(ctx, env, acct) })
		}
		if err == nil {
			// Only now: a rule naming an account that does not exist
			// would stay behind if useradd failed.
			err = do("sudo", func() ([]report.Change, error) { return ensureSudo(ctx, env, h.User) })
		}
		if err != nil {
			return finish(err)
		}
	}
	// Host keys before the sshd settings: their validation then judges the
	// files with the keys sshd will load, and where sshd already runs (host
	// data that came later) its reload works; Debian's SysV script checks
	// the configuration, keys included, before it restarts sshd.
	hostname := ""
	if h != nil {
		hostname = h.Hostname
	}
	if err := do("host_keys", func() ([]report.Change, error) {
		return steps.HealHostKeys(ctx, env, env.Profile.SSH.HostKeyTypes, hostname)
	}); err != nil {
		return finish(err)
	}
	if env.Root.Exists(ProfileFile) {
		// A baked image: its algorithms stay as the bake chose them for
		// this sshd (no sshd -V, no probe); sshd -T judges the result.
		env.KeepBakedCrypto()
	}
	if err := doStep(func() (*report.Step, error) { return applySSH(ctx, env, h) }); err != nil {
		return finish(err)
	}
	if h != nil && h.SSH.Port != 0 {
		// The firewall and the fail2ban jail follow the ports sshd listens
		// on, where they were baked.
		for _, name := range []string{"firewall", "fail2ban"} {
			if err := doStep(func() (*report.Step, error) { return applyBaked(ctx, withHostSSH(env, h.SSH), name) }); err != nil {
				return finish(err)
			}
		}
	}
	if hostname != "" {
		if err := do("hostname", func() ([]report.Change, error) { return steps.SetHostname(ctx, env, hostname) }); err != nil {
			return finish(err)
		}
	}
	warnIfNoWayIn(env, h, o.Warn)
	if found == nil {
		return finish(nil)
	}
	st, err := writeMarker(env, found, o.Version)
	rep.Steps = append(rep.Steps, st)
	if err != nil {
		return finish(err)
	}
	logf(env, "firstboot: done in %s; %s written", since(start), Marker)
	return finish(nil)
}

// writeMarker writes the marker, then removes the host data file it
// consumed. In that order: without the file and without the marker, the next
// boot would be a run with no host data, which puts sshd back to the
// profile's port and address family. A run that finds the marker removes a
// host data file a cut-off run left (Run).
func writeMarker(env *steps.Env, found *host.Found, version string) (report.Step, error) {
	st := report.Step{Name: "marker"}
	fail := func(err error) (report.Step, error) {
		st.Error = err.Error()
		return st, err
	}
	h := found.Host
	m := MarkerData{Version: version, Time: time.Now().UTC().Format(time.RFC3339), Kind: found.Kind, Source: found.Source, Consumed: true, User: h.User.Name, Keys: h.Fingerprints()}
	data, _ := json.MarshalIndent(m, "", "  ")
	if err := env.Root.MkdirAll(filepath.Dir(Marker), 0o755, root.RootOwner); err != nil {
		return fail(err)
	}
	// Everything before the marker is on disk first: what useradd and
	// ssh-keygen wrote is not fsynced by them.
	if err := env.Root.Sync(); err != nil {
		return fail(err)
	}
	if err := env.Root.WriteFile(Marker, append(data, '\n'), 0o644, root.RootOwner); err != nil {
		return fail(err)
	}
	st.Changes = append(st.Changes, report.Change{Kind: "write", Path: Marker, Summary: "first boot done; source " + found.Source})
	if found.HostPath != "" {
		if err := removeDurably(found.HostPath); err != nil {
			return fail(err)
		}
		st.Changes = append(st.Changes, report.Change{Kind: "remove", Path: found.Source, Summary: "host data consumed"})
	}
	return st, nil
}

// runStep runs one step under a "name:" progress header and reports it.
// Steps that go through steps.Execute print their changes as they make
// them; the account, key and host-key steps do not, so theirs are printed
// here.
func runStep(env *steps.Env, name string, fn func() ([]report.Change, error)) (*report.Step, error) {
	logf(env, "%s:", name)
	changes, err := fn()
	st := &report.Step{Name: name, Changes: changes}
	if name != "user" && name != "authorized_keys" && name != "host_keys" {
		changes = nil
	}
	for _, c := range changes {
		what := c.Path
		if c.Command != "" {
			what = c.Command
		}
		logf(env, "  %s %s: %s", c.Kind, what, c.Summary)
	}
	if err != nil {
		st.Error = err.Error()
	}
	return st, err
}

// since is the time since start for progress lines, in milliseconds.
func since(start time.Time) string {
	return fmt.Sprintf("%.1f ms", float64(time.Since(start).Microseconds())/1000)
}

// removeDurably deletes a consumed host data file and syncs its directory.
func removeDurably(p string) error {
	if err := os.Remove(p); err != nil && !os.IsNotExist(err) {
		return err
	}
	d, err := os.Open(filepath.Dir(p))
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// warnIfNoWayIn warns loudly when nobody can log in with a key: no host
// data user and no account with an authorized key. sshd keeps refusing
// passwords regardless (the baked configuration is never relaxed).
func warnIfNoWayIn(env *steps.Env, h *host.Host, warn func(string)) {
	if h != nil && h.HasUser() {
		return
	}
	if anyAuthorizedKey(env) {
		return
	}
	msg := strings.Join([]string{
		"hardbake firstboot: WARNING: no host data with a user and no account has an SSH key.",
		"  Nobody can log in over SSH (passwords stay off). Give host data: --config FILE,",
		"  " + host.File + ", or a NoCloud seed (hardbake seed; see docs/firstboot.md).",
	}, "\n")
	if warn != nil {
		warn(msg)
	} else {
		logf(env, "%s", msg)
	}
}

// Fingerprint-only summaries of keys for logs and reports.
func keySummary(keys []host.Key) string {
	fps := make([]string, len(keys))
	for i, k := range keys {
		fps[i] = k.Type + " " + k.Fingerprint
	}
	return fmt.Sprintf("%d key(s): %s", len(keys), strings.Join(fps, ", "))
}
