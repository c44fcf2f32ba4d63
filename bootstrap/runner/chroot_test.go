package runner

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/hardbake/hardbake/internal/testroot"
)

// TestExecChroot: under Chroot the target's own programs run inside it,
// found in its PATH through its links, in its /, with the clean
// environment; a missing program is exit 127 as with chroot(8).
func TestExecChroot(t *testing.T) {
	if testing.Short() || os.Geteuid() != 0 {
		t.Skip("real Debian root, chroot(2): root and not -short")
	}
	dir := testroot.Debian(t, "bookworm")
	e := Exec{Chroot: dir}
	ctx := context.Background()
	res, err := e.Run(ctx, Cmd{Name: "sh", Args: []string{"-c", `pwd; echo "$PATH"; cat /etc/debian_version; readlink -f /proc/self/root 2>/dev/null; echo $0`}, Env: []string{"X=1"}})
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(res.Stdout)), "\n")
	if len(lines) < 4 || lines[0] != "/" || !strings.HasPrefix(lines[1], "/usr/local/sbin:") || !strings.HasPrefix(lines[2], "12") || lines[len(lines)-1] != "sh" {
		t.Fatalf("output:\n%s", res.Stdout)
	}
	// awk is a link into /etc/alternatives, inside the root.
	if res, err := e.Run(ctx, Cmd{Name: "awk", Args: []string{"BEGIN{print 1+1}"}}); err != nil || string(res.Stdout) != "2\n" {
		t.Fatalf("awk: %v %q", err, res.Stdout)
	}
	if res, err := e.Run(ctx, Cmd{Name: "cat", Stdin: []byte("in")}); err != nil || string(res.Stdout) != "in" {
		t.Fatalf("stdin: %v %q", err, res.Stdout)
	}
	var ee *ExitError
	for _, name := range []string{"no-such-program", "/usr/bin/no-such-program"} {
		_, err := e.Run(ctx, Cmd{Name: name})
		if !errors.As(err, &ee) || ee.Result.ExitCode != 127 {
			t.Errorf("%s: %v, want exit 127", name, err)
		}
	}
	if _, err := e.Run(ctx, Cmd{Name: "false"}); !errors.As(err, &ee) || ee.Result.ExitCode != 1 {
		t.Errorf("false: %v", err)
	}
}
