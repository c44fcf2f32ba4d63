package steps

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/hardbake/hardbake/bootstrap/profile"
	"github.com/hardbake/hardbake/bootstrap/runner"
	"github.com/hardbake/hardbake/internal/testroot"
)

// catConfig splits `systemd-analyze cat-config` output into the files
// systemd reads, in its order ("# /path" before each file's text).
func catConfig(out string) []confFile {
	var files []confFile
	for _, l := range strings.Split(out, "\n") {
		if p, ok := strings.CutPrefix(l, "# /"); ok && !strings.Contains(p, " ") {
			files = append(files, confFile{Path: "/" + p})
			continue
		}
		if len(files) > 0 {
			files[len(files)-1].Text += l + "\n"
		}
	}
	return files
}

// TestLoggingOnRealRoots bakes the logging step into real Debian 12 and 13
// roots, journald-only path (no package download), and judges the result
// with the roots' own tools: systemd-analyze cat-config lists the files
// journald reads in the order our evaluator uses, and the values agree;
// Debian 13's vendor drop-in (ForwardToSyslog=yes) is overridden by one of
// the same name in /etc; the root's systemd-tmpfiles, as at boot, keeps the
// login records 0640; find sees no log file readable by others.
func TestLoggingOnRealRoots(t *testing.T) {
	if testing.Short() {
		t.Skip("real Debian roots: not in -short")
	}
	for _, suite := range testroot.Suites {
		t.Run(suite, func(t *testing.T) {
			dir := testroot.Debian(t, suite)
			r, d := testroot.Open(t, dir)
			p, err := profile.Parse([]byte("logging:\n  syslog: journal\n  journal_max_use: 256M\n"))
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			run := runner.Exec{Chroot: dir}
			env := &Env{Root: r, Run: run, Distro: d, Profile: p}
			// apt writes 0644 files during a bake: one like dpkg's log.
			if err := os.WriteFile(filepath.Join(dir, "var/log/dpkg.log"), []byte("x\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			if _, err := (Logging{}).Apply(ctx, env); err != nil {
				t.Fatal(err)
			}
			checks, err := Logging{}.Check(ctx, env)
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range checks {
				if !c.OK {
					t.Errorf("check %s: want %s, got %s (%s)", c.ID, c.Want, c.Got, c.Detail)
				}
			}

			res, err := run.Run(ctx, cmd("systemd-analyze", "cat-config", "systemd/journald.conf"))
			if err != nil {
				t.Fatal(err)
			}
			theirs := catConfig(string(res.Stdout))
			ours := systemdConfFiles(r, "systemd/journald.conf")
			var tp, op []string
			for _, f := range theirs {
				tp = append(tp, f.Path)
			}
			for _, f := range ours {
				op = append(op, f.Path)
			}
			if !slices.Equal(tp, op) {
				t.Fatalf("systemd reads %v, our evaluator %v", tp, op)
			}
			effTheirs, effOurs := effectiveSystemdConf(theirs, "Journal"), effectiveSystemdConf(ours, "Journal")
			for k, want := range map[string]string{"Storage": "persistent", "Compress": "yes", "ForwardToSyslog": "no", "SystemMaxUse": "256M"} {
				if effTheirs[k].Value != want || effOurs[k] != effTheirs[k] {
					t.Errorf("%s: systemd's files give %+v, our evaluator %+v, want %s", k, effTheirs[k], effOurs[k], want)
				}
			}
			if suite == "trixie" {
				if !slices.Contains(tp, "/etc/systemd/journald.conf.d/syslog.conf") || slices.Contains(tp, "/usr/lib/systemd/journald.conf.d/syslog.conf") {
					t.Errorf("Debian 13's ForwardToSyslog=yes drop-in is not overridden by name in /etc: %v", tp)
				}
			}

			// The scanner's view: the main file alone carries every value.
			main, _ := os.ReadFile(filepath.Join(dir, "etc/systemd/journald.conf"))
			for _, l := range []string{"\nStorage=persistent\n", "\nCompress=yes\n", "\nForwardToSyslog=no\n", "\nSystemMaxUse=256M\n", "\n#Storage=auto\n"} {
				if !strings.Contains(string(main), l) {
					t.Errorf("main journald.conf lacks %q", strings.TrimSpace(l))
				}
			}

			// At boot: the root's own systemd-tmpfiles (it needs /proc).
			err = run.WithSystem(ctx, func() error {
				_, err := run.Run(ctx, cmd("systemd-tmpfiles", "--create"))
				return err
			})
			if err != nil {
				t.Logf("systemd-tmpfiles --create: %v (some lines fail in a chroot; the modes below are what counts)", err)
			}
			res, err = run.Run(ctx, cmd("find", "/var/log", "-type", "f", "!", "-name", "history.log*", "!", "-name", "eipp.log.xz*", "-perm", "/7137", "-printf", `%m %p\n`))
			if err != nil {
				t.Fatal(err)
			}
			if s := strings.TrimSpace(string(res.Stdout)); s != "" {
				t.Errorf("log files wider than 0640 after the step and a boot's tmpfiles run:\n%s", s)
			}
			res, err = run.Run(ctx, cmd("stat", "-c", "%a %U %G", "/var/log/wtmp", "/var/log/dpkg.log"))
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.Fields(string(res.Stdout)); !slices.Equal(got, []string{"640", "root", "utmp", "640", "root", "root"}) {
				t.Errorf("wtmp and dpkg.log: %v (owner and group must stay)", got)
			}

			// Idempotent; the deviations say which path was taken.
			if actions, err := (Logging{}).Plan(ctx, env); err != nil || len(actions) != 0 {
				t.Errorf("second plan: %v %v", actions, err)
			}
			var refs []string
			for _, dv := range (Logging{}).Deviations(env) {
				refs = append(refs, dv.Refs...)
			}
			for _, want := range []string{"ssg:package_rsyslog_installed", "ssg:journald_forward_to_syslog", "ssg:systemd_journal_upload_url"} {
				if !slices.Contains(refs, want) {
					t.Errorf("deviations %v lack %s", refs, want)
				}
			}
		})
	}
}
