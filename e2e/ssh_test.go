package e2e

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
)

// openssh runs the real OpenSSH client against 127.0.0.1:port as user with
// key (BatchMode: it never prompts) and returns stdout+stderr and the error.
// opts come first: ssh keeps the first value of an option, so they override
// the defaults here (e.g. LogLevel).
func openssh(key string, port int, user string, opts []string, command string) (string, error) {
	args := append([]string{"-p", fmt.Sprint(port)}, opts...)
	args = append(args, "-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes",
		"-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR",
		"-o", "ConnectTimeout=20")
	if key != "" {
		args = append(args, "-i", key)
	}
	args = append(args, user+"@127.0.0.1")
	if command != "" {
		args = append(args, command)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "ssh", args...).CombinedOutput()
	return string(out), err
}

// upload writes data to path in the guest over c.
func upload(c *ssh.Client, path string, data []byte, mode os.FileMode) error {
	s, err := c.NewSession()
	if err != nil {
		return err
	}
	defer s.Close()
	s.Stdin = bytes.NewReader(data)
	out, err := s.CombinedOutput(fmt.Sprintf("cat > %s && chmod %o %s", path, mode, path))
	if err != nil {
		return fmt.Errorf("upload %s: %v: %s", path, err, out)
	}
	return nil
}

// sshdT parses `sshd -T` output into keyword -> values.
func sshdT(out string) map[string][]string {
	m := map[string][]string{}
	for _, line := range strings.Split(out, "\n") {
		k, v, ok := strings.Cut(strings.TrimSpace(line), " ")
		if ok {
			m[k] = append(m[k], v)
		}
	}
	return m
}

func loadKey(t *testing.T, path string) ssh.Signer {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s, err := ssh.ParsePrivateKey(data)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func newKeyFile(t *testing.T, path string) {
	t.Helper()
	if out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "e2e", "-f", path).CombinedOutput(); err != nil {
		t.Fatalf("ssh-keygen: %v\n%s", err, out)
	}
}
