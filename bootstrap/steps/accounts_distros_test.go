package steps

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/hardbake/hardbake/bootstrap/profile"
	"github.com/hardbake/hardbake/bootstrap/report"
	"github.com/hardbake/hardbake/bootstrap/runner"
	"github.com/hardbake/hardbake/internal/testroot"
)

// TestAccountsPAMPerFamily: PAM is changed only with the family's own tool.
// On the RHEL family and Fedora authselect turns on the features its
// current profile lacks (the answer of `authselect current --raw` is
// recorded as a RHEL 9 cloud image gives it: the sssd profile); a system
// authselect does not manage is left alone and reported. Arch has no tool:
// nothing under /etc/pam.d is written, and the audit says so as a warning.
// No family gets a hand-edited PAM stack file.
func TestAccountsPAMPerFamily(t *testing.T) {
	rpm := map[string]runner.Result{"rpm -q": {ExitCode: 1, Stdout: []byte("package libpwquality is not installed\n")}}
	with := func(m map[string]runner.Result, k string, v runner.Result) map[string]runner.Result {
		out := map[string]runner.Result{k: v}
		for a, b := range m {
			out[a] = b
		}
		return out
	}
	cases := []struct {
		root      string
		responses map[string]runner.Result
		want      []string // commands the plan must hold, in order
		pamWarn   bool
	}{
		{"rocky9", with(rpm, "authselect current --raw", runner.Result{Stdout: []byte("sssd with-silent-lastlog with-faillock\n")}),
			[]string{"dnf -y install libpwquality", "authselect enable-feature with-pwhistory", "authselect enable-feature without-nullok"}, false},
		{"fedora41", with(rpm, "authselect current --raw", runner.Result{Stdout: []byte("local with-silent-lastlog\n")}),
			[]string{"dnf -y install libpwquality", "authselect enable-feature with-faillock", "authselect enable-feature with-pwhistory", "authselect enable-feature without-nullok"}, false},
		{"alma9", with(rpm, "authselect current --raw", runner.Result{ExitCode: 2, Stderr: []byte("No existing configuration detected.\n")}),
			[]string{"dnf -y install libpwquality"}, true},
		{"arch", map[string]runner.Result{}, nil, true},
	}
	for _, c := range cases {
		t.Run(c.root, func(t *testing.T) {
			env, _ := goldenEnv(t, c.root, "", c.responses)
			actions, err := (Accounts{}).Plan(context.Background(), env)
			if err != nil {
				t.Fatal(err)
			}
			var cmds []string
			for _, a := range actions {
				if a.Kind == "run" {
					cmds = append(cmds, a.Cmd.String())
				}
				if a.Kind == "write" && strings.HasPrefix(a.Path, "/etc/pam.d/") && a.Path != pamSu {
					t.Errorf("writes the PAM stack file %s by hand", a.Path)
				}
			}
			var pam []string
			for _, s := range cmds {
				if strings.HasPrefix(s, "authselect") || strings.HasPrefix(s, "dnf -y install") || strings.HasPrefix(s, "pam-auth-update") {
					pam = append(pam, s)
				}
			}
			if !slices.Equal(pam, c.want) {
				t.Errorf("PAM commands %q, want %q", pam, c.want)
			}
			checks, err := (Accounts{}).Check(context.Background(), env)
			if err != nil {
				t.Fatal(err)
			}
			for _, ch := range checks {
				if ch.ID == "accounts.pam_stack" && (ch.Severity == report.Warn) != c.pamWarn {
					t.Errorf("pam_stack check %+v, want warn=%v", ch, c.pamWarn)
				}
			}
		})
	}
}

// TestSystemAccountsKeepShellWithKey: a system account that holds an SSH
// key (a build user made with useradd -r) keeps its shell, so the bake
// never locks it out mid-build; one without a key gets nologin, and so does
// one with /bin/false (SSG counts it as a shell).
func TestSystemAccountsKeepShellWithKey(t *testing.T) {
	dir := testroot.Copy(t, filepath.Join("testdata/roots", "debian12"))
	r, d := testroot.Open(t, dir)
	appendTo(t, filepath.Join(dir, "etc/passwd"), []string{
		"buildsvc:x:990:990::/home/buildsvc:/bin/bash",
		"olddaemon:x:991:991::/:/bin/sh",
		"dhcpcd:x:101:65534:DHCP Client Daemon:/usr/lib/dhcpcd:/bin/false",
		"someone:x:1000:1000::/home/someone:/bin/bash",
	})
	writeRootFile(t, dir, "home/buildsvc/.ssh/authorized_keys", "ssh-ed25519 "+fixtureKey+" build\n", 0o600)
	env := &Env{Root: r, Run: &runner.Recorder{}, Distro: d, Profile: profile.Default()}
	change, keyed := systemAccountsWithShell(env)
	if !slices.Equal(change, []string{"olddaemon", "dhcpcd"}) || !slices.Equal(keyed, []string{"buildsvc"}) {
		t.Errorf("nologin for %v, kept for their key %v", change, keyed)
	}
	actions, err := (Accounts{}).Plan(context.Background(), env)
	if err != nil {
		t.Fatal(err)
	}
	var usermod []string
	for _, a := range actions {
		if a.Cmd.Name == "usermod" {
			usermod = append(usermod, a.Cmd.String())
		}
	}
	want := []string{"usermod -s /usr/sbin/nologin -- olddaemon", "usermod -s /usr/sbin/nologin -- dhcpcd"}
	if !slices.Equal(usermod, want) {
		t.Errorf("usermod commands %q, want %q", usermod, want)
	}
}
