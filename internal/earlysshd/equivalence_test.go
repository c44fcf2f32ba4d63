package earlysshd

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hardbake/hardbake/bootstrap/runner"
	"github.com/hardbake/hardbake/internal/testroot"
)

// TestSameAnswerAsTheFile: in a real Debian 12 root (chroot, /proc mounted
// as firstboot runs it), the early `sshd -T -f /proc/self/fd/0`, fed the
// main file after a drop-in and a host key appeared, prints exactly what
// `sshd -T -f /etc/ssh/sshd_config` prints for the same files: Include is
// followed from /etc/ssh, the host key is read after the input.
func TestSameAnswerAsTheFile(t *testing.T) {
	if testing.Short() || os.Geteuid() != 0 {
		t.Skip("real Debian root and chroot: not in -short, needs root")
	}
	dir := testroot.Debian(t, "bookworm")
	keys, _ := filepath.Glob(filepath.Join(dir, "etc/ssh/ssh_host_*"))
	for _, k := range keys {
		os.Remove(k)
	}
	os.MkdirAll(filepath.Join(dir, "run/sshd"), 0o755)
	run := runner.Exec{Chroot: dir}
	err := run.WithSystem(context.Background(), func() error {
		p, err := start(dir)
		if err != nil {
			return err
		}
		early := runner.AdoptEarly(runner.Cmd{Name: Binary, Args: Args}, p.Pid, p.Stdin, p.Out, p.Err)
		defer early.Cancel()
		// What a first boot does between the start and the question.
		dropIn := filepath.Join(dir, "etc/ssh/sshd_config.d/00-hardbake.conf")
		if err := os.WriteFile(dropIn, []byte("AddressFamily inet\nPort 2222\n"), 0o644); err != nil {
			return err
		}
		if out, err := exec.Command("chroot", dir, "ssh-keygen", "-q", "-N", "", "-t", "ed25519", "-f", "/etc/ssh/ssh_host_ed25519_key").CombinedOutput(); err != nil {
			t.Fatalf("ssh-keygen: %v %s", err, out)
		}
		main, err := os.ReadFile(filepath.Join(dir, "etc/ssh/sshd_config"))
		if err != nil {
			return err
		}
		got, err := early.Feed(context.Background(), main)
		if err != nil {
			t.Fatalf("early sshd: %v", err)
		}
		want, err := run.Run(context.Background(), runner.Cmd{Name: Binary, Args: []string{"-T", "-f", "/etc/ssh/sshd_config"}})
		if err != nil {
			t.Fatal(err)
		}
		if string(got.Stdout) != string(want.Stdout) || len(want.Stdout) == 0 {
			t.Errorf("early sshd -T printed\n%s\nsshd -T -f /etc/ssh/sshd_config printed\n%s", got.Stdout, want.Stdout)
		}
		for _, line := range []string{"addressfamily inet\n", "port 2222\n", "hostkey /etc/ssh/ssh_host_ed25519_key\n"} {
			if !contains(got.Stdout, line) {
				t.Errorf("early sshd -T lacks %q", line)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func contains(b []byte, s string) bool { return strings.Contains(string(b), s) }
