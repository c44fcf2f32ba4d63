package main

import (
	"bytes"
	"context"
	"encoding/json"
	"runtime"
	"testing"

	"github.com/hardbake/hardbake/bootstrap"
	"github.com/hardbake/hardbake/bootstrap/report"
)

// withBuild sets what -ldflags -X stamps, for one test.
func withBuild(t *testing.T, v, c, d string) {
	oldV, oldC, oldD := version, commit, buildDate
	version, commit, buildDate = v, c, d
	t.Cleanup(func() { version, commit, buildDate = oldV, oldC, oldD })
}

func TestVersionCommand(t *testing.T) {
	for _, tc := range []struct {
		name, v, c, d, want string
	}{
		{"release", "v0.1.0", "0123456789abcdef0123456789abcdef01234567", "2026-12-07T21:00:00Z",
			"hardbake v0.1.0 commit 0123456789abcdef0123456789abcdef01234567 built 2026-12-07T21:00:00Z\n"},
		// A plain go build stamps nothing but the version: one word, as
		// before releases (scripts compare `hardbake version` output).
		{"plain build", "test", "", "", "hardbake test\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			withBuild(t, tc.v, tc.c, tc.d)
			var out, errOut bytes.Buffer
			if code := run(context.Background(), []string{"version"}, &out, &errOut); code != 0 || out.String() != tc.want {
				t.Fatalf("version: exit %d, %q (stderr %q), want %q", code, out.String(), errOut.String(), tc.want)
			}
			out.Reset()
			if code := run(context.Background(), []string{"version", "--json"}, &out, &errOut); code != 0 {
				t.Fatalf("version --json: exit %d: %s", code, errOut.String())
			}
			var got buildInfo
			if err := json.Unmarshal(out.Bytes(), &got); err != nil {
				t.Fatalf("version --json is not JSON: %v\n%s", err, out.String())
			}
			want := buildInfo{Version: tc.v, Commit: tc.c, BuildDate: tc.d, Go: runtime.Version(), OS: runtime.GOOS, Arch: runtime.GOARCH}
			if got != want {
				t.Fatalf("version --json = %+v, want %+v", got, want)
			}
		})
	}
}

func TestVersionBadUsage(t *testing.T) {
	for _, args := range [][]string{{"version", "--yaml"}, {"version", "extra"}} {
		var out, errOut bytes.Buffer
		if code := run(context.Background(), args, &out, &errOut); code != bootstrap.ExitBadInput || out.Len() != 0 {
			t.Errorf("%v: exit %d, stdout %q; want exit 2 and nothing on stdout", args, code, out.String())
		}
	}
}

// TestReportCarriesBuild: every report says which build wrote it, and a
// plain build's report has no empty commit or build_date keys.
func TestReportCarriesBuild(t *testing.T) {
	withBuild(t, "v0.1.0", "abc123", "2026-12-07T21:00:00Z")
	rep := &report.Report{Command: "audit"}
	stampReport(rep)
	var buf bytes.Buffer
	if err := rep.Write(&buf); err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if got["version"] != "v0.1.0" || got["commit"] != "abc123" || got["build_date"] != "2026-12-07T21:00:00Z" {
		t.Fatalf("report: version %v commit %v build_date %v", got["version"], got["commit"], got["build_date"])
	}

	withBuild(t, "test", "", "")
	rep = &report.Report{Command: "audit"}
	stampReport(rep)
	buf.Reset()
	if err := rep.Write(&buf); err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(buf.Bytes(), []byte(`"commit"`)) || bytes.Contains(buf.Bytes(), []byte(`"build_date"`)) {
		t.Fatalf("a plain build's report has commit/build_date keys:\n%s", buf.String())
	}
}
