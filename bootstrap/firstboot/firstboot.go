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
	"github.com/hardbake/hardbake/bootstrap/runner"
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
	// SkipHostKeys leaves host keys alone (benchmarks).
	SkipHostKeys bool
	// EarlySSHD, when set, is `sshd -T -f /proc/self/fd/0` started in the
	// target before the run (internal/earlysshd): the ssh step's `sshd -T`
	// feeds it the main file instead of starting sshd then. Run ends it
	// when it is not asked.
	EarlySSHD *runner.Early
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

// Run applies the first host data found. Without any host data it only
// makes sure host keys exist and warns, and writes no marker, so that host
// data arriving later (cloud-init write_files + runcmd) is still applied.
func Run(ctx context.Context, o Options) (*report.Report, error) {
	start := time.Now()
	env := rememberSSHD(o.Env)
	if env.Root.Writable() {
		// One syncfs before the marker makes every rename durable; the
		// directory fsync after each file would only repeat it.
		r := *env.Root
		r.DeferDirSync = true
		e := *env
		e.Root = &r
		env = &e
	}
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
		return finish(nil)
	}
	if o.EarlySSHD != nil {
		if a, ok := sshdAnswersOf(env); ok {
			a.early = o.EarlySSHD
			defer a.stopEarly()
		} else {
			o.EarlySSHD.Cancel()
		}
	}
	// The ssh step compares sshd with what the bake recorded about it;
	// hashing the binary overlaps with reading the host data.
	steps.PrefetchSSHDFacts(env)
	target := &host.Target{Root: env.Root, Distro: env.Distro}
	found, findErr := host.Find(o.Sources, target)
	if findErr != nil {
		// Bad input changes nothing, except that a live host still gets
		// host keys: sshd must start with the baked config either way.
		if env.Live() && !o.SkipHostKeys {
			st := report.Step{Name: "host_keys"}
			st.Changes, _ = ensureHostKeys(ctx, env, env.Profile.SSH.HostKeyTypes, "")
			rep.Steps = append(rep.Steps, st)
		}
		return finish(findErr)
	}
	if found == nil {
		logf(env, "firstboot: no host data (--config, %s, NoCloud seed)", host.File)
	} else {
		logf(env, "firstboot: host data from %s (%s)", found.Source, since(start))
	}
	var h *host.Host
	if found != nil {
		h = found.Host
	}

	hostname := ""
	if h != nil {
		hostname = h.Hostname
	}
	// Three lanes of work that share no file and run side by side (see
	// lanes): the account (useradd, authorized_keys, and the host name),
	// sshd (host keys, the configuration judged by `sshd -T`, the firewall
	// and fail2ban following a port change), and the sudo rule with its
	// `visudo -c`. The rule names the user but needs no account to exist:
	// visudo judges syntax, owners and modes, so it runs beside useradd
	// instead of after it. useradd is the longest tool (six forks looking
	// for nscd and sss_cache), so nothing waits behind it that need not:
	// 0.6 ms of every first boot (BenchmarkFirstbootVsCloudInit).
	// When useradd fails the rule stays, naming no account, and the next
	// boot (the host data is kept, no marker) finishes both.
	const userLane, sshdLane, sudoLane = "account", "sshd", "sudo"
	l := newLanes(env)
	// useradd leads: with the unit's one Go processor, useradd is forked
	// right after the host data is read instead of after the sshd lane's
	// plan (1.3 ms later), and the other lanes' Go work runs while it does.
	l.lead = userLane
	var acct *account
	hasUser := h != nil && h.HasUser()
	l.add(sshdLane, !o.SkipHostKeys, "host_keys", func(env *steps.Env) ([]report.Change, error) {
		return ensureHostKeys(ctx, env, env.Profile.SSH.HostKeyTypes, hostname)
	})
	l.add(userLane, hasUser, "user", func(env *steps.Env) (c []report.Change, err error) {
		c, acct, err = ensureUser(ctx, env, h.User)
		return c, err
	})
	l.add(sudoLane, hasUser, "sudo", func(env *steps.Env) ([]report.Change, error) { return ensureSudo(ctx, env, h.User) })
	l.add(userLane, hasUser, "authorized_keys", func(env *steps.Env) ([]report.Change, error) { return writeAuthorizedKeys(env, acct, h) })
	l.add(userLane, hasUser, "selinux_labels", func(env *steps.Env) ([]report.Change, error) { return relabelSSHDir(ctx, env, acct) })
	l.add(userLane, hostname != "", "hostname", func(env *steps.Env) ([]report.Change, error) { return setHostname(ctx, env, hostname) })
	l.addStep(sshdLane, func(env *steps.Env) (*report.Step, error) { return applySSH(ctx, env, h) })
	if h != nil && h.SSH.Port != 0 {
		// The firewall and the fail2ban jail follow the ports sshd listens
		// on, where they were baked.
		for _, name := range []string{"firewall", "fail2ban"} {
			if st, ok := registered(name); ok {
				l.addStep(sshdLane, func(env *steps.Env) (*report.Step, error) {
					env = withHostSSH(env, h.SSH)
					actions, ok := bakedPlan(ctx, env, st)
					if !ok {
						return nil, nil
					}
					return runStep(env, name, func() ([]report.Change, error) { return executeBootSafe(ctx, env, actions) })
				})
			}
		}
	}
	stepsRun, err := l.run()
	rep.Steps = append(rep.Steps, stepsRun...)
	if err != nil {
		return finish(err)
	}
	warnIfNoWayIn(env, h, o.Warn)
	if found == nil {
		return finish(nil)
	}
	// Done: the data is consumed. The file goes first, the marker last; a
	// power cut between them leaves a fully configured host whose next
	// boot finds no data and only re-checks host keys.
	st := report.Step{Name: "marker"}
	if found.HostPath != "" {
		if err := removeDurably(found.HostPath); err != nil {
			st.Error = err.Error()
			rep.Steps = append(rep.Steps, st)
			return finish(err)
		}
		st.Changes = append(st.Changes, report.Change{Kind: "remove", Path: found.Source, Summary: "host data consumed"})
	}
	m := MarkerData{Version: o.Version, Time: time.Now().UTC().Format(time.RFC3339), Kind: found.Kind, Source: found.Source, Consumed: true, User: h.User.Name, Keys: h.Fingerprints()}
	data, _ := json.MarshalIndent(m, "", "  ")
	if err := env.Root.MkdirAll(filepath.Dir(Marker), 0o755, root.RootOwner); err != nil {
		return finish(err)
	}
	// Everything before the marker is on disk (syncfs also covers what
	// useradd and ssh-keygen wrote, and the renames whose directory fsync
	// this run deferred), then the marker is.
	if err := env.Root.Sync(); err != nil {
		return finish(err)
	}
	// The marker itself with its directory's fsync (o.Env's root does not
	// defer it): a second syncfs would flush the whole file system again.
	if err := o.Env.Root.WriteFile(Marker, append(data, '\n'), 0o644, root.RootOwner); err != nil {
		return finish(err)
	}
	st.Changes = append(st.Changes, report.Change{Kind: "write", Path: Marker, Summary: "first boot done; source " + found.Source})
	rep.Steps = append(rep.Steps, st)
	logf(env, "firstboot: done in %s; %s written", since(start), Marker)
	return finish(nil)
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
