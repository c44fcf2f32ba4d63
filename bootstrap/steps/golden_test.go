package steps

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hardbake/hardbake/bootstrap/profile"
	"github.com/hardbake/hardbake/bootstrap/runner"
	"github.com/hardbake/hardbake/internal/testroot"
)

var update = flag.Bool("update", false, "rewrite the golden plans in testdata/golden")

// goldenCases are fixture roots under testdata/roots holding real default
// configs of each family, and what their package tools answer.
var goldenCases = []struct {
	name      string
	profile   string
	responses map[string]runner.Result
}{
	{"debian12", "seal:\n  remove_user: packer\nfirewall:\n  allow_tcp: [443]\n", map[string]runner.Result{
		"apt-get -q -o DPkg::Lock::Timeout=600 -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold -s purge": {
			Stdout: []byte("Purg exim4-daemon-light [4.96-15+deb12u5]\nPurg exim4-base [4.96-15+deb12u5]\nPurg exim4-config [4.96-15+deb12u5]\nPurg rpcbind [1.2.6-6+b1]\n")},
	}},
	{"ubuntu2404", "updates:\n  automatic_reboot: true\n  reboot_time: \"03:30\"\n", map[string]runner.Result{
		"apt-get -q -o DPkg::Lock::Timeout=600 -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold -s purge": {
			Stdout: []byte("Purg rpcbind [1.2.6-7ubuntu2]\n")},
	}},
	{"fedora41", "", map[string]runner.Result{
		"rpm -q":                            {ExitCode: 1, Stdout: []byte("package x is not installed\n")},
		"rpm -q --qf '%{NAME}\\n' exim4":    {ExitCode: 1, Stdout: []byte("rpcbind\n")},
		"rpm -e --test rpcbind":             {}, // nothing else needs it
		"firewall-offline-cmd --query-port": {ExitCode: 1},
	}},
	{"rocky9", "", map[string]runner.Result{
		"rpm -q": {ExitCode: 1, Stdout: []byte("package x is not installed\n")},
		"firewall-offline-cmd --query-port=22/tcp": {ExitCode: 1},
	}},
	{"arch", "", map[string]runner.Result{
		"pacman -Rns --print": {Stdout: []byte("rpcbind\n")},
	}},
	{"ubuntu2204", "", map[string]runner.Result{
		"apt-get -q -o DPkg::Lock::Timeout=600 -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold -s purge": {
			Stdout: []byte("Purg rpcbind [1.2.6-2build1]\n")},
	}},
	{"centos9", "", map[string]runner.Result{
		"rpm -q": {ExitCode: 1, Stdout: []byte("package x is not installed\n")},
		"firewall-offline-cmd --query-port=22/tcp": {ExitCode: 1},
	}},
	{"alma9", "", map[string]runner.Result{
		"rpm -q": {ExitCode: 1, Stdout: []byte("package x is not installed\n")},
		"firewall-offline-cmd --query-port=22/tcp": {ExitCode: 1},
	}},
}

// goldenEnv is a private copy of fixture root name with a recorder that
// answers responses, and the profile prof.
func goldenEnv(t *testing.T, name, prof string, responses map[string]runner.Result) (*Env, *runner.Recorder) {
	t.Helper()
	r, d := testroot.Open(t, testroot.Copy(t, filepath.Join("testdata/roots", name)))
	p, err := profile.Parse([]byte(prof))
	if err != nil {
		t.Fatal(err)
	}
	rec := &runner.Recorder{Responses: responses}
	return &Env{Root: r, Run: rec, Distro: d, Profile: p}, rec
}

// TestGoldenPlans records, per family, every file each step would write
// (as a diff) and every command it would run or ask while planning.
// Regenerate with: go test ./bootstrap/steps -run TestGoldenPlans -update
func TestGoldenPlans(t *testing.T) {
	for _, c := range goldenCases {
		t.Run(c.name, func(t *testing.T) {
			env, rec := goldenEnv(t, c.name, c.profile, c.responses)
			var b strings.Builder
			fmt.Fprintf(&b, "# %s: %s\n", c.name, env.Distro)
			for _, s := range Registry {
				before := len(rec.Strings())
				actions, err := s.Plan(context.Background(), env)
				fmt.Fprintf(&b, "\n== %s\n", s.Name())
				for _, q := range rec.Strings()[before:] {
					fmt.Fprintf(&b, "asked: %s\n", q)
				}
				if err != nil {
					fmt.Fprintf(&b, "error: %v\n", err)
					continue
				}
				for _, a := range actions {
					ch := a.Change()
					switch a.Kind {
					case "run", "validate":
						fmt.Fprintf(&b, "%s: %s  # %s\n", a.Kind, ch.Command, a.Summary)
					default:
						fmt.Fprintf(&b, "%s %s  # %s\n", a.Kind, a.Path, a.Summary)
						if a.Kind == "write" && s.Name() != "seal" {
							b.WriteString(ch.Diff)
						}
					}
				}
			}
			// Arch's finding and dnf/apt checks, computed offline.
			checks, err := Updates{}.Check(context.Background(), env)
			if err != nil {
				t.Fatal(err)
			}
			for _, ch := range checks {
				if ch.Severity != "" {
					fmt.Fprintf(&b, "\ncheck %s (%s): want %s, got %s\n", ch.ID, ch.Severity, ch.Want, ch.Got)
				}
			}
			file := filepath.Join("testdata/golden", c.name+".txt")
			if *update {
				os.MkdirAll(filepath.Dir(file), 0o755)
				if err := os.WriteFile(file, []byte(b.String()), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(file)
			if err != nil {
				t.Fatalf("%v (run with -update)", err)
			}
			if string(want) != b.String() {
				t.Errorf("plan differs from %s (rerun with -update and review the diff):\n%s", file, UnifiedDiff(file, want, []byte(b.String())))
			}
		})
	}
}
