package pkgfiles

import (
	"bytes"
	"compress/gzip"
	"io"
	"os/exec"
	"reflect"
	"strings"
	"testing"
)

// sampleUsage has every shape hardbake's usage uses: arguments with a
// description after a gap, a continuation line with more arguments, one
// with only a description, a command with a plain description, the same
// command twice, a bare command, and notes.
const sampleUsage = `hardbake: harden golden images.

Usage:
  hardbake bake    [--root DIR] [--only STEP,..] [--json]
  hardbake plan    [same flags as bake]   what bake would change
  hardbake audit   [--root DIR] [--json]
                   [--format text|prometheus] [-o FILE]   (-o: the document to FILE)
  hardbake seed    --host FILE [--instance-id ID] -o FILE
                   a NoCloud seed image
  hardbake firstboot [--root DIR]
  hardbake firstboot --example   print the schema
  hardbake profile  print the default profile, commented
  hardbake version

Exit codes: 0 ok,
1 failed.
`

func TestParseUsage(t *testing.T) {
	u, err := ParseUsage(sampleUsage)
	if err != nil {
		t.Fatal(err)
	}
	want := Usage{
		Summary: "harden golden images",
		Commands: []Command{
			{Name: "bake", Synopsis: "[--root DIR] [--only STEP,..] [--json]"},
			{Name: "plan", Synopsis: "[same flags as bake]", Description: "what bake would change"},
			{Name: "audit", Synopsis: "[--root DIR] [--json] [--format text|prometheus] [-o FILE]", Description: "(-o: the document to FILE)"},
			{Name: "seed", Synopsis: "--host FILE [--instance-id ID] -o FILE", Description: "a NoCloud seed image"},
			{Name: "firstboot", Synopsis: "[--root DIR]"},
			{Name: "firstboot", Synopsis: "--example", Description: "print the schema"},
			{Name: "profile", Description: "print the default profile, commented"},
			{Name: "version"},
		},
		Notes: []string{"Exit codes: 0 ok, 1 failed."},
	}
	if !reflect.DeepEqual(u, want) {
		t.Fatalf("ParseUsage:\n%#v\nwant\n%#v", u, want)
	}
	if got := strings.Join(u.Names(), " "); got != "bake plan audit seed firstboot profile version" {
		t.Errorf("Names: %s", got)
	}
}

func TestParseUsageRefusesOtherShapes(t *testing.T) {
	for name, text := range map[string]string{
		"no summary":    "Usage:\n  hardbake bake\n",
		"no Usage line": "hardbake: x\n\n  hardbake bake\n",
		"no commands":   "hardbake: x\n\nUsage:\n\nExit codes.\n",
		"stray line":    "hardbake: x\n\nUsage:\n  hardbake bake\nsomething else\n",
	} {
		if _, err := ParseUsage(text); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestRoff(t *testing.T) {
	for in, want := range map[string]string{
		"--root DIR":       `\-\-root DIR`,
		`a\b`:              `a\eb`,
		".hidden":          `\&.hidden`,
		"'quote":           `\&'quote`,
		"plain words here": "plain words here",
	} {
		if got := roff(in); got != want {
			t.Errorf("roff(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestManPageRenders: groff reads the page without a warning, and the
// rendered text carries each command with its arguments and description.
func TestManPageRenders(t *testing.T) {
	if _, err := exec.LookPath("groff"); err != nil {
		t.Skip("groff is not installed")
	}
	u, err := ParseUsage(sampleUsage)
	if err != nil {
		t.Fatal(err)
	}
	page := ManPage(u, "v0.1.0", "2026-12-07", []File{{Path: "/etc/hardbake/profile.yaml", About: "The profile."}})
	cmd := exec.Command("groff", "-man", "-Tutf8", "-ww", "-rLL=300n")
	cmd.Stdin = strings.NewReader(page)
	var out, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &stderr
	if err := cmd.Run(); err != nil || stderr.Len() > 0 {
		t.Fatalf("groff: %v\n%s\n%s", err, stderr.String(), page)
	}
	text := strings.Join(strings.Fields(stripOverstrike(out.String())), " ")
	for _, want := range []string{
		"hardbake - harden golden images",
		"hardbake audit [--root DIR] [--json] [--format text|prometheus] [-o FILE] (-o: the document to FILE)",
		"hardbake firstboot --example print the schema",
		"EXIT STATUS Exit codes: 0 ok, 1 failed.",
		"/etc/hardbake/profile.yaml The profile.",
		"hardbake v0.1.0 2026-12-07",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("rendered page lacks %q:\n%s", want, text)
		}
	}
}

// stripOverstrike drops groff's overstrike bold and underline (x\bx, _\bx)
// and maps its hyphen to "-".
func stripOverstrike(s string) string {
	r := []rune(s)
	var out []rune
	for i := 0; i < len(r); i++ {
		if i+1 < len(r) && r[i+1] == '\b' {
			i++ // the overstruck char and the backspace; the next is kept
			continue
		}
		out = append(out, r[i])
	}
	return strings.ReplaceAll(string(out), "\u2010", "-")
}

func TestCommandFlags(t *testing.T) {
	u, err := ParseUsage(sampleUsage)
	if err != nil {
		t.Fatal(err)
	}
	got := commandFlags(u)
	want := map[string][]flagArg{
		"bake":      {{"--root", "dir"}, {"--only", "steps"}, {"--json", ""}},
		"plan":      {{"--root", "dir"}, {"--only", "steps"}, {"--json", ""}},
		"audit":     {{"--root", "dir"}, {"--json", ""}, {"--format", "words:text prometheus"}, {"-o", "file"}},
		"seed":      {{"--host", "file"}, {"--instance-id", "none"}, {"-o", "file"}},
		"firstboot": {{"--root", "dir"}, {"--example", ""}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("commandFlags:\n%v\nwant\n%v", got, want)
	}
}

func TestGzipIsReproducible(t *testing.T) {
	a, err := Gzip([]byte("page"))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := Gzip([]byte("page"))
	if !bytes.Equal(a, b) {
		t.Fatal("two compressions differ")
	}
	zr, err := gzip.NewReader(bytes.NewReader(a))
	if err != nil {
		t.Fatal(err)
	}
	data, _ := io.ReadAll(zr)
	if string(data) != "page" || zr.Name != "" || !zr.ModTime.IsZero() {
		t.Fatalf("gunzip: %q name %q time %v", data, zr.Name, zr.ModTime)
	}
}
