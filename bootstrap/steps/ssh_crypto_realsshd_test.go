package steps

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hardbake/hardbake/bootstrap/distro"
	"github.com/hardbake/hardbake/bootstrap/profile"
	"github.com/hardbake/hardbake/bootstrap/root"
	"github.com/hardbake/hardbake/bootstrap/runner"
	"github.com/hardbake/hardbake/internal/sshaudit"
	"github.com/hardbake/hardbake/internal/testroot"
	"golang.org/x/crypto/ssh"
)

// TestSSHCryptoClients hardens real Debian 12 (OpenSSH 9.2) and 13 (10.0)
// roots with the default profile (crypto: modern), runs their own sshd on
// loopback, and connects: Go's x/crypto/ssh (what Packer uses) and the host's
// OpenSSH client log in with a key; a client offering only SHA-1 key exchange
// and ssh-rsa host keys is refused; ssh-audit, when installed, reports no
// failure (and the stock sshd's counts are logged for comparison).
func TestSSHCryptoClients(t *testing.T) {
	if testing.Short() {
		t.Skip("real Debian roots: not in -short")
	}
	for _, suite := range []string{"bookworm", "trixie"} {
		t.Run(suite, func(t *testing.T) {
			dir := testroot.Debian(t, suite)
			env := realEnv(t, dir, "")
			key := addLoginUser(t, dir)
			ctx := context.Background()

			if fails, warns, ok := sshAudit(t, dir); ok {
				t.Logf("ssh-audit, stock %s sshd: %d fail, %d warn", suite, fails, warns)
			}
			if _, err := (SSH{}).Apply(ctx, env); err != nil {
				t.Fatal(err)
			}
			checks, err := (SSH{}).Check(ctx, env)
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range checks {
				if !c.OK {
					t.Errorf("check %s: want %s, got %s", c.ID, c.Want, c.Got)
				}
			}
			drop, _ := env.Root.ReadFile(SSHDropIn)
			wantKex := map[string]string{"bookworm": "KexAlgorithms sntrup761x25519-sha512@openssh.com,", "trixie": "KexAlgorithms mlkem768x25519-sha256,"}[suite]
			if !strings.Contains(string(drop), wantKex) {
				t.Errorf("drop-in lacks %q:\n%s", wantKex, drop)
			}

			addr := startSSHD(t, dir)
			if out, err := sshRun(addr, "tester", key.signer, "echo ok"); err != nil || out != "ok" {
				t.Errorf("x/crypto/ssh client: %q %v", out, err)
			}
			if out, err := openSSH(addr, key.file); err != nil || out != "ok" {
				t.Errorf("OpenSSH client: %q %v", out, err)
			}
			out, err := openSSH(addr, key.file, "-o", "KexAlgorithms=diffie-hellman-group14-sha1", "-o", "HostKeyAlgorithms=ssh-rsa")
			if err == nil || !strings.Contains(out, "no matching key exchange method") {
				t.Errorf("old-algorithm client was not refused for its key exchange: %q %v", out, err)
			}
			if fails, warns, ok := sshAudit(t, dir, addr); ok {
				t.Logf("ssh-audit, hardened %s sshd: %d fail, %d warn", suite, fails, warns)
				if fails != 0 {
					t.Errorf("ssh-audit reports %d fail on the hardened sshd", fails)
				}
			}
		})
	}
}

// TestSSHCryptoRequireClient: an algorithm in ssh.crypto_require stays
// usable by a client that offers only it.
func TestSSHCryptoRequireClient(t *testing.T) {
	if testing.Short() {
		t.Skip("real Debian root: not in -short")
	}
	dir := testroot.Debian(t, "bookworm")
	env := realEnv(t, dir, "ssh:\n  crypto_require: [ecdh-sha2-nistp256]\n")
	key := addLoginUser(t, dir)
	if _, err := (SSH{}).Apply(context.Background(), env); err != nil {
		t.Fatal(err)
	}
	addr := startSSHD(t, dir)
	if out, err := openSSH(addr, key.file, "-o", "KexAlgorithms=ecdh-sha2-nistp256"); err != nil || out != "ok" {
		t.Errorf("client offering only the required ecdh-sha2-nistp256: %q %v", out, err)
	}
	if out, err := openSSH(addr, key.file, "-o", "KexAlgorithms=ecdh-sha2-nistp384"); err == nil {
		t.Errorf("ecdh-sha2-nistp384 (not required) was accepted: %q", out)
	}
}

// fedoraCryptoPolicy is a crypto-policies DEFAULT-style sshd back-end
// (options Debian's OpenSSH 9.2 also knows).
const fedoraCryptoPolicy = `Ciphers aes256-gcm@openssh.com,chacha20-poly1305@openssh.com,aes256-ctr,aes128-gcm@openssh.com,aes128-ctr
MACs hmac-sha2-256-etm@openssh.com,hmac-sha1-etm@openssh.com,umac-128-etm@openssh.com,hmac-sha2-512-etm@openssh.com,hmac-sha2-256,hmac-sha1,umac-128@openssh.com,hmac-sha2-512
KexAlgorithms curve25519-sha256,curve25519-sha256@libssh.org,ecdh-sha2-nistp256,ecdh-sha2-nistp384,ecdh-sha2-nistp521,diffie-hellman-group-exchange-sha256,diffie-hellman-group14-sha256,diffie-hellman-group16-sha512,diffie-hellman-group18-sha512
HostKeyAlgorithms ecdsa-sha2-nistp256,ssh-ed25519,rsa-sha2-256,rsa-sha2-512
PubkeyAcceptedAlgorithms ssh-ed25519,rsa-sha2-512,rsa-sha2-256
`

// TestSSHCryptoWinsOverCryptoPolicies: Fedora 41's sshd_config and
// 50-redhat.conf, with the crypto-policies back-end it Includes, judged by a
// real sshd: our 00-hardbake.conf sorts first, so our four algorithm lists
// win, and what the policy sets that we do not (PubkeyAcceptedAlgorithms)
// stays the policy's.
func TestSSHCryptoWinsOverCryptoPolicies(t *testing.T) {
	if testing.Short() {
		t.Skip("real Debian root: not in -short")
	}
	dir := testroot.Debian(t, "bookworm")
	useSSHConfig(t, dir, testroot.Copy(t, filepath.Join("testdata/roots", "fedora41")))
	policy := filepath.Join(dir, "etc/crypto-policies/back-ends/opensshserver.config")
	os.MkdirAll(filepath.Dir(policy), 0o755)
	if err := os.WriteFile(policy, []byte(fedoraCryptoPolicy), 0o644); err != nil {
		t.Fatal(err)
	}
	env := realEnv(t, dir, "")
	ctx := context.Background()
	before := sshdT(t, ctx, env)
	if !strings.Contains(before["kexalgorithms"], "ecdh-sha2-nistp256") {
		t.Fatalf("the policy back-end is not in effect: kexalgorithms %s", before["kexalgorithms"])
	}
	if _, err := (SSH{}).Apply(ctx, env); err != nil {
		t.Fatal(err)
	}
	if !env.Root.Exists(SSHDropIn) {
		t.Fatal("no drop-in written")
	}
	after := sshdT(t, ctx, env)
	drop, _ := env.Root.ReadFile(SSHDropIn)
	for _, k := range []string{"KexAlgorithms", "Ciphers", "MACs", "HostKeyAlgorithms"} {
		want := ""
		for _, l := range strings.Split(string(drop), "\n") {
			if v, ok := strings.CutPrefix(l, k+" "); ok {
				want = v
			}
		}
		if want == "" || after[strings.ToLower(k)] != want {
			t.Errorf("%s: sshd -T says %q, the drop-in %q", k, after[strings.ToLower(k)], want)
		}
	}
	if got := after["pubkeyacceptedalgorithms"]; got != "ssh-ed25519,rsa-sha2-512,rsa-sha2-256" {
		t.Errorf("pubkeyacceptedalgorithms no longer the policy's: %s", got)
	}
}

func realEnv(t *testing.T, dir, prof string) *Env {
	t.Helper()
	r, err := root.Dir(dir)
	if err != nil {
		t.Fatal(err)
	}
	p, err := profile.Parse([]byte(prof))
	if err != nil {
		t.Fatal(err)
	}
	env := &Env{Root: r, Run: runner.Exec{Chroot: dir}, Profile: p}
	if env.Distro, err = distro.Detect(r); err != nil {
		t.Fatal(err)
	}
	return env
}

func sshdT(t *testing.T, ctx context.Context, env *Env) map[string]string {
	t.Helper()
	out, err := sshdTest(ctx, env, "-T")
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]string{}
	for k, v := range parseSSHDT(out) {
		m[k] = strings.Join(v, " ")
	}
	return m
}

type loginKey struct {
	signer ssh.Signer
	file   string // private key for the OpenSSH client
}

// addLoginUser makes user "tester", an admin (group sudo: the ssh step's
// AllowGroups), in the root with a fresh ed25519 key.
func addLoginUser(t *testing.T, dir string) loginKey {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	signer, _ := ssh.NewSignerFromKey(priv)
	sshPub, _ := ssh.NewPublicKey(pub)
	if out, err := exec.Command("chroot", dir, "useradd", "-m", "-s", "/bin/sh", "-G", "sudo", "tester").CombinedOutput(); err != nil {
		t.Fatalf("useradd: %v %s", err, out)
	}
	home := filepath.Join(dir, "home/tester/.ssh")
	os.MkdirAll(home, 0o700)
	os.WriteFile(filepath.Join(home, "authorized_keys"), ssh.MarshalAuthorizedKey(sshPub), 0o600)
	if out, err := exec.Command("chroot", dir, "chown", "-R", "tester:", "/home/tester/.ssh").CombinedOutput(); err != nil {
		t.Fatalf("chown: %v %s", err, out)
	}
	block, _ := ssh.MarshalPrivateKey(priv, "")
	file := filepath.Join(t.TempDir(), "id_ed25519")
	os.WriteFile(file, pem.EncodeToMemory(block), 0o600)
	return loginKey{signer, file}
}

// startSSHD runs the root's sshd on a free loopback port until the test ends.
func startSSHD(t *testing.T, dir string) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	os.MkdirAll(filepath.Join(dir, "run/sshd"), 0o755)
	var stderr bytes.Buffer
	cmd := exec.Command("chroot", dir, "/usr/sbin/sshd", "-D", "-e", "-p", strconv.Itoa(port), "-o", "ListenAddress=127.0.0.1")
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	for i := 0; i < 100; i++ {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return addr
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("sshd did not start: %s", stderr.String())
	return ""
}

// sshRun logs in as user with the key (Go's SSH client) and runs command:
// its output and error output, trimmed.
func sshRun(addr, user string, signer ssh.Signer, command string) (string, error) {
	c, err := ssh.Dial("tcp", addr, &ssh.ClientConfig{User: user, Auth: []ssh.AuthMethod{ssh.PublicKeys(signer)},
		HostKeyCallback: ssh.InsecureIgnoreHostKey(), Timeout: 10 * time.Second})
	if err != nil {
		return "", err
	}
	defer c.Close()
	s, err := c.NewSession()
	if err != nil {
		return "", err
	}
	defer s.Close()
	var stderr strings.Builder
	s.Stderr = &stderr
	out, err := s.Output(command)
	return strings.TrimSpace(string(out) + " " + stderr.String()), err
}

func openSSH(addr, keyFile string, opts ...string) (string, error) {
	host, port, _ := net.SplitHostPort(addr)
	args := append([]string{"-F", "/dev/null", "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
		"-o", "ConnectTimeout=10", "-i", keyFile, "-p", port}, opts...)
	args = append(args, "tester@"+host, "echo", "ok")
	out, err := exec.Command("ssh", args...).CombinedOutput()
	if err != nil {
		return string(out), err
	}
	// Warnings (known hosts) go to stderr; the command's output is the last line.
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	return lines[len(lines)-1], nil
}

// sshAudit runs ssh-audit against addr, or against the root's stock sshd
// started for it when addr is empty, and counts its [fail] and [warn]
// lines (internal/sshaudit, shared with the e2e suite). ok is false when
// ssh-audit is not installed (scripts/deps.sh installs it).
func sshAudit(t *testing.T, dir string, addr ...string) (fails, warns int, ok bool) {
	t.Helper()
	if !sshaudit.Installed() {
		t.Log("ssh-audit not installed: skipping its verdict")
		return 0, 0, false
	}
	a := ""
	if len(addr) > 0 {
		a = addr[0]
	} else {
		a = startSSHD(t, dir)
	}
	host, port, _ := net.SplitHostPort(a)
	p, _ := strconv.Atoi(port)
	r, err := sshaudit.Run(context.Background(), host, p, 0)
	if err != nil {
		t.Fatal(err)
	}
	return r.Fails, r.Warns, true
}
