package main

import (
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/hardbake/hardbake/internal/testroot"
)

var updatePlans = flag.Bool("update", false, "rewrite testdata/plans/*.json from `hardbake plan --root <fixture> --json`")

// Parts of a plan that differ between builds of hardbake, not between
// distributions: the version, the temporary root, the binary's size and hash.
var planNoise = []struct {
	re   *regexp.Regexp
	with string
}{
	{regexp.MustCompile(`"version": "[^"]*"`), `"version": "VERSION"`},
	{regexp.MustCompile(`"root": "[^"]*"`), `"root": "ROOT"`},
	{regexp.MustCompile(`\(\d+ bytes, sha256 [0-9a-f]+\)`), "(SIZE bytes, sha256 HASH)"},
}

// TestPlanGoldenJSON records what the real binary plans for each fixture
// root (the distributions' shipped files, bootstrap/steps/testdata/roots):
// `hardbake plan --root <copy> --json` with the default profile, compared
// with testdata/plans/<fixture>.json. Regenerate with
// `go test ./cmd/hardbake -run TestPlanGoldenJSON -update` and review the diff.
// Nothing in the fixture roots can run, so every question the plan asks
// the target (package queries, sshd -V) gets "not there": what a plan made
// offline on a mounted image of that distribution would say.
func TestPlanGoldenJSON(t *testing.T) {
	fixtures, err := filepath.Glob("../../bootstrap/steps/testdata/roots/*")
	if err != nil || len(fixtures) < 8 {
		t.Fatalf("fixture roots: %v %v", fixtures, err)
	}
	for _, fx := range fixtures {
		fi, err := os.Stat(fx)
		if err != nil || !fi.IsDir() {
			continue
		}
		name := filepath.Base(fx)
		t.Run(name, func(t *testing.T) {
			dir := testroot.Copy(t, fx)
			before := testroot.Digest(t, dir, "/proc", "/sys", "/dev")
			r := hardbake(t, "plan", "--root", dir, "--json")
			if r.code != 0 {
				t.Fatalf("plan: exit %d\n%s", r.code, r.stderr)
			}
			testroot.AssertSame(t, before, testroot.Digest(t, dir, "/proc", "/sys", "/dev"))
			got := r.stdout
			for _, n := range planNoise {
				got = n.re.ReplaceAllString(got, n.with)
			}
			golden := filepath.Join("testdata", "plans", name+".json")
			if *updatePlans {
				if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update to record it)", err)
			}
			if got != string(want) {
				t.Errorf("plan for %s differs from %s (run with -update and review the diff):\n%s", name, golden, firstDiff(string(want), got))
			}
		})
	}
}

// firstDiff shows the first differing line of two texts with its neighbours.
func firstDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < len(w) || i < len(g); i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			return "line " + strconv.Itoa(i+1) + ":\n- " + wl + "\n+ " + gl
		}
	}
	return "(same lines)"
}
