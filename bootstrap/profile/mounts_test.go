package profile

import (
	"errors"
	"strings"
	"testing"

	"github.com/hardbake/hardbake/bootstrap"
)

// badProfile asserts yaml is refused with exactly the problems in want
// (each "field (line N): message").
func badProfile(t *testing.T, yaml string, want ...string) {
	t.Helper()
	_, err := Parse([]byte(yaml))
	if err == nil {
		t.Fatalf("accepted:\n%s", yaml)
	}
	var pe *Error
	if !errors.Is(err, bootstrap.ErrInvalid) || !errors.As(err, &pe) {
		t.Fatalf("not a profile error wrapping ErrInvalid: %v", err)
	}
	if len(pe.Problems) != len(want) {
		t.Errorf("got %d problems, want %d:\n%v", len(pe.Problems), len(want), err)
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("missing %q in:\n%v", w, err)
		}
	}
}

func TestMountsProfile(t *testing.T) {
	p, err := Parse([]byte("mounts:\n  tmp:\n    size: 2g\n  dev_shm:\n    enabled: false\n    options: [nodev]\n"))
	if err != nil {
		t.Fatal(err)
	}
	if !p.Mounts.Tmp.Enabled || p.Mounts.Tmp.Size != "2g" || len(p.Mounts.Tmp.Options) != 3 {
		t.Errorf("tmp: %+v: the default's enabled and options are kept, size set", p.Mounts.Tmp)
	}
	if p.Mounts.DevShm.Enabled || strings.Join(p.Mounts.DevShm.Options, ",") != "nodev" {
		t.Errorf("dev_shm: %+v", p.Mounts.DevShm)
	}
	for _, ok := range []string{"512m", "1G", "25%", "100%", "4096"} {
		if _, err := Parse([]byte("mounts:\n  tmp:\n    size: \"" + ok + "\"\n")); err != nil {
			t.Errorf("size %q refused: %v", ok, err)
		}
	}
	badProfile(t, "mounts:\n  tmp:\n    options: [noexec, nosuid, ro, noexec]\n",
		`mounts.tmp.options[2] (line 3): "ro" is not one of nodev, nosuid, noexec`,
		`mounts.tmp.options[3] (line 3): "noexec" is listed twice`)
	badProfile(t, "mounts:\n  dev_shm:\n    size: 2 GB\n",
		`mounts.dev_shm.size (line 3): "2 GB" is not a tmpfs size`)
	badProfile(t, "mounts:\n  tmp:\n    size: 150%\n",
		`mounts.tmp.size (line 3): "150%" is more than the whole memory (at most 100%)`)
	badProfile(t, "mounts:\n  tmp:\n    size: 0\n",
		`mounts.tmp.size (line 3): "0" is not a tmpfs size`)
	badProfile(t, "mounts:\n  var: {}\n", `mounts.var (line 2): unknown key; allowed here: dev_shm, tmp`)
}
