package steps

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hardbake/hardbake/bootstrap"
	"github.com/hardbake/hardbake/bootstrap/profile"
	"github.com/hardbake/hardbake/bootstrap/report"
	"github.com/hardbake/hardbake/bootstrap/runner"
	"github.com/hardbake/hardbake/internal/testroot"
)

// TestAuditOnRealRoots bakes the audit step into real Debian 12 and 13
// roots (auditd, audispd-plugins, aide and aide-common installed from the
// mirror) and judges the result with the roots' own tools: every rule of
// the audit.rules that augenrules made is parsed by the root's auditctl (in
// a user namespace, so nothing reaches the host's kernel), augenrules
// --check finds it current, aide --config-check accepts AIDE's
// configuration and the database exists; a second bake changes nothing. A
// rule the root's auditctl refuses makes the bake fail and puts the files
// back. Debian 12 only: installing AIDE costs minutes of package scripts
// (aide-common registers ~230 files with ucf), and cmd/hardbake's TestCIS
// bakes both releases with it and requires their audit to pass.
func TestAuditOnRealRoots(t *testing.T) {
	if testing.Short() {
		t.Skip("real Debian roots and package downloads: not in -short")
	}
	for _, suite := range []string{"bookworm"} {
		t.Run(suite, func(t *testing.T) {
			dir := testroot.Debian(t, suite)
			r, d := testroot.Open(t, dir)
			p, err := profile.Parse(nil)
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			env := &Env{Root: r, Run: runner.Exec{Chroot: dir}, Distro: d, Profile: p}
			if _, err := (Audit{}).Apply(ctx, env); err != nil {
				t.Fatal(err)
			}
			checks, err := Audit{}.Check(ctx, env)
			if err != nil {
				t.Fatal(err)
			}
			seen := map[string]bool{}
			for _, c := range checks {
				seen[c.ID] = true
				// No GRUB in the test roots; Debian 13's aide
				// configuration is judged offline only with the machine
				// and boot IDs (below).
				if !c.OK && !(c.Severity == report.Warn && (c.ID == "audit.boot_parameters" || (c.ID == "aide.config_check" && suite == "trixie"))) {
					t.Errorf("check %s: want %s, got %s", c.ID, c.Want, c.Got)
				}
			}
			// aide --config-check as on a booted machine: /proc (boot ID)
			// and a machine ID.
			err = env.Run.(runner.Mounter).WithSystem(ctx, func() error {
				return withMachineID(env, func() error {
					_, err := env.Run.Run(ctx, cmd("aide", "--config-check", "--config=/etc/aide/aide.conf"))
					return err
				})
			})
			if err != nil {
				t.Errorf("aide --config-check: %v", err)
			}
			if data, _ := os.ReadFile(filepath.Join(dir, MachineID)); len(data) != 0 {
				t.Errorf("the lent machine ID stayed: %q", data)
			}
			for _, id := range []string{"audit.rules_parse", "audit.rules_current", "aide.config_check", "aide.database", "aide.periodic_check", "audit.enabled_at_boot"} {
				if !seen[id] {
					t.Errorf("no check %s", id)
				}
			}
			rules, _ := os.ReadFile(filepath.Join(dir, AuditLoadedRules))
			for _, want := range []string{"-a always,exit -F path=/usr/bin/sudo -F perm=x -F auid>=1000 -F auid!=unset -k privileged", "-w /etc/shadow -p wa -k identity"} {
				if !strings.Contains(string(rules), want+"\n") {
					t.Errorf("audit.rules lacks %q", want)
				}
			}
			if lines := strings.Split(strings.TrimSpace(string(rules)), "\n"); lines[len(lines)-1] != "-e 2" {
				t.Errorf("audit.rules does not end with -e 2: %q", lines[len(lines)-1])
			}

			// AIDE's own rule tree (aide -p): host keys left out, the
			// machine's identity watched for owner and mode only, the audit
			// tools with SHA-512.
			for path, want := range map[string]string{
				"f:/etc/ssh/ssh_host_ed25519_key": "negative rule",
				"f:/etc/machine-id":               "/etc/machine-id$ f p+u+g",
				"f:/usr/sbin/auditctl":            "sha512",
				"f:/etc/passwd":                   "Full",
			} {
				var res runner.Result
				err := env.Run.(runner.Mounter).WithSystem(ctx, func() error {
					return withMachineID(env, func() error {
						var err error
						res, err = env.Run.Run(ctx, cmd("aide", "--config=/etc/aide/aide.conf", "-p", path))
						// Exit 1: the path is not in the database (a
						// negative rule); the answer is on stdout either way.
						var ee *runner.ExitError
						if errors.As(err, &ee) && ee.Result.ExitCode == 1 {
							res, err = ee.Result, nil
						}
						return err
					})
				})
				if err != nil || !strings.Contains(string(res.Stdout), want) {
					t.Errorf("aide -p %s: %q, %v; want %q", path, res.Stdout, err, want)
				}
			}

			changes, err := (Audit{}).Apply(ctx, env)
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range changes {
				if c.Mutates() {
					t.Errorf("second bake changed %s %s %s", c.Kind, c.Path, c.Command)
				}
			}

			// A rule the root's auditctl refuses: the bake fails, and the
			// file it would have written stays as it was (absent).
			bad := filepath.Join(dir, AuditRulesDir, "70-local.rules")
			if err := os.WriteFile(bad, []byte("-a always,exit -F arch=b64 -S no_such_syscall -k local\n"), 0o640); err != nil {
				t.Fatal(err)
			}
			if err := os.Remove(filepath.Join(dir, AuditRulesFile)); err != nil {
				t.Fatal(err)
			}
			_, err = (Audit{}).Apply(ctx, env)
			if !errors.Is(err, bootstrap.ErrValidation) || !strings.Contains(err.Error(), "no_such_syscall") {
				t.Fatalf("a rule auditctl refuses: %v", err)
			}
			if _, err := os.Stat(filepath.Join(dir, AuditRulesFile)); !os.IsNotExist(err) {
				t.Errorf("the refused bake left %s behind: %v", AuditRulesFile, err)
			}
		})
	}
}
