package root

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// TestWriteFileRemovesStaleTemps: the temp files a killed run left beside
// the file (created, maybe half written, never renamed) are removed by the
// next write of that file; other files, and temp-like names of other files
// or with a non-numeric tail, stay.
func TestWriteFileRemovesStaleTemps(t *testing.T) {
	r, dir := newRoot(t)
	for name, data := range map[string]string{
		"sshd_config":                        "old",
		".sshd_config.hardbake-123":          "half writ",
		".sshd_config.hardbake-4294967295":   "",
		".sshd_config.hardbake-":             "not ours: no number",
		".sshd_config.hardbake-12x":          "not ours: not a number",
		".sshd_config.d.hardbake-5":          "another file's",
		"sshd_config.hardbake-7":             "no leading dot",
		".other.hardbake-9":                  "another file's",
		".sshd_config.hardbake-1.hardbake-2": "a temp of a temp-like name",
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.WriteFile("/sshd_config", []byte("new"), 0o644, RootOwner); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		got = append(got, e.Name())
	}
	want := []string{
		".other.hardbake-9", ".sshd_config.d.hardbake-5", ".sshd_config.hardbake-",
		".sshd_config.hardbake-1.hardbake-2", ".sshd_config.hardbake-12x",
		"sshd_config", "sshd_config.hardbake-7",
	}
	if !slices.Equal(got, want) {
		t.Fatalf("after the write:\n got %q\nwant %q", got, want)
	}
	if data, _ := os.ReadFile(filepath.Join(dir, "sshd_config")); string(data) != "new" {
		t.Fatalf("content %q", data)
	}
}
