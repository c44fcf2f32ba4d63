package main

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hardbake/hardbake/bootstrap"
	"github.com/hardbake/hardbake/bootstrap/steps"
)

// TestAuditFormatFlags: --format, --json and -o are judged together before
// anything runs; every refusal is bad input (exit 2) naming the flag.
func TestAuditFormatFlags(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "hardbake.prom")
	if err := os.WriteFile(filepath.Join(dir, "plain"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args          []string
		format, wrong string // wrong: "" = accepted
	}{
		{nil, "text", ""},
		{[]string{"--json"}, "json", ""},
		{[]string{"--format", "json", "--json"}, "json", ""},
		{[]string{"--format", "prometheus", "-o", file}, "prometheus", ""},
		{[]string{"--format", "junit"}, "junit", ""},
		{[]string{"--format", "xml"}, "", `--format: "xml" is not one of text, json, prometheus, junit`},
		{[]string{"--format", "Prometheus"}, "", `--format: "Prometheus" is not one of`},
		{[]string{"--json", "--format", "junit"}, "", "--json and --format junit: choose one"},
		{[]string{"-o", file}, "", "-o: needs --format json, prometheus or junit"},
		{[]string{"--format", "prometheus", "-o", filepath.Join(dir, "missing", "x.prom")}, "", "no such file or directory"},
		{[]string{"--format", "prometheus", "-o", filepath.Join(dir, "plain", "x.prom")}, "", "is not a directory"},
	} {
		f, err := parseStepFlags(steps.ModeAudit, c.args, io.Discard)
		switch {
		case c.wrong == "" && err != nil:
			t.Errorf("%v: %v", c.args, err)
		case c.wrong == "" && f.format != c.format:
			t.Errorf("%v: format %q, want %q", c.args, f.format, c.format)
		case c.wrong != "" && (!errors.Is(err, bootstrap.ErrInvalid) || !strings.Contains(err.Error(), c.wrong)):
			t.Errorf("%v: got %v, want bad input with %q", c.args, err, c.wrong)
		}
	}
	// bake keeps --json and has no --format.
	if f, err := parseStepFlags(steps.ModeBake, []string{"--json"}, io.Discard); err != nil || !f.toStdout() {
		t.Errorf("bake --json: %+v %v", f, err)
	}
	if _, err := parseStepFlags(steps.ModeBake, []string{"--format", "junit"}, io.Discard); err == nil {
		t.Error("bake accepted --format")
	}
}
