package steps

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hardbake/hardbake/bootstrap/distro"
	"github.com/hardbake/hardbake/internal/testroot"
	"golang.org/x/crypto/ssh"
)

// fixtureKey is the public key the testdata/keylogin files hold.
const fixtureKey = "AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl"

// TestKeyLoginCasesWithRealSSHD lets a real OpenSSH 9.2 judge every
// testdata/keylogin case: base's accounts are added to a real Debian 12
// root, the case's files laid over it with the fixture key replaced by a
// fresh one, the root's sshd started with the case's drop-in, and a client
// holding the private key tries every account. "Can log in" means a session
// ran `echo ok`: a nologin or /bin/false account authenticates but gets no
// session. The answer must be the case's, which FindKeyLogin gives too
// (TestKeyLoginCases). For the AuthorizedKeysCommand case, which FindKeyLogin
// cannot judge offline and counts as a way in, the root gets a command that
// answers alice's key.
func TestKeyLoginCasesWithRealSSHD(t *testing.T) {
	if testing.Short() {
		t.Skip("real Debian root: not in -short")
	}
	debian := testroot.Debian(t, "bookworm")
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	signer, _ := ssh.NewSignerFromKey(priv)
	sshPub, _ := ssh.NewPublicKey(pub)
	key := strings.Fields(string(ssh.MarshalAuthorizedKey(sshPub)))[1]

	// base's accounts after Debian's own (its root line is Debian's), each
	// local one with a shadow entry as useradd makes it (no password).
	basePasswd, err := os.ReadFile(filepath.Join(keyLoginCases, "base/etc/passwd"))
	if err != nil {
		t.Fatal(err)
	}
	var passwd, shadow []string
	for _, line := range strings.Split(strings.TrimSpace(string(basePasswd)), "\n") {
		if !strings.HasPrefix(line, "root:") {
			passwd = append(passwd, line)
		}
	}
	for _, a := range distro.ParsePasswd(string(basePasswd)) {
		if a.Name != "root" {
			shadow = append(shadow, a.Name+":*:20000:0:99999:7:::")
		}
	}
	appendTo(t, filepath.Join(debian, "etc/passwd"), passwd)
	appendTo(t, filepath.Join(debian, "etc/shadow"), shadow)
	var users []string
	for _, line := range strings.Split(string(basePasswd), "\n") {
		if name, _, _ := strings.Cut(line, ":"); name != "" {
			users = append(users, strings.TrimLeft(name, "+-"))
		}
	}
	// base's sshd_config says PermitRootLogin no; Debian's includes the
	// drop-ins first, and a case's 10-keys.conf sorts before this one.
	writeRootFile(t, debian, "etc/ssh/sshd_config.d/90-base.conf", "PermitRootLogin no\n", 0o644)
	writeRootFile(t, debian, "usr/local/bin/keys",
		"#!/bin/sh\n[ \"$1\" = alice ] && echo 'ssh-ed25519 "+key+" alice@example'\nexit 0\n", 0o755)

	for name, want := range keyLoginCaseNames(t, keyLoginCases) {
		t.Run(name, func(t *testing.T) {
			caseDir := filepath.Join(keyLoginCases, name)
			err := filepath.WalkDir(caseDir, func(p string, d fs.DirEntry, err error) error {
				if err != nil || d.IsDir() {
					return err
				}
				data, err := os.ReadFile(p)
				if err != nil {
					return err
				}
				rel, _ := filepath.Rel(caseDir, p)
				writeRootFile(t, debian, rel, strings.ReplaceAll(string(data), fixtureKey, key), 0o644)
				// The next case must not find this one's files.
				t.Cleanup(func() { os.Remove(filepath.Join(debian, rel)) })
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			addr := startSSHD(t, debian)
			var in []string
			for _, u := range users {
				if loginRunsEcho(addr, u, signer) {
					in = append(in, u)
				}
			}
			if got := len(in) > 0; got != want {
				t.Errorf("real sshd: logged in as %q; the case says a way in: %v", in, want)
			}
			t.Logf("real sshd let in: %q", in)
		})
	}
}

// loginRunsEcho reports whether user logs in with signer's key and a
// session runs `echo ok`.
func loginRunsEcho(addr, user string, signer ssh.Signer) bool {
	c, err := ssh.Dial("tcp", addr, &ssh.ClientConfig{User: user, Auth: []ssh.AuthMethod{ssh.PublicKeys(signer)},
		HostKeyCallback: ssh.InsecureIgnoreHostKey(), Timeout: 10 * time.Second})
	if err != nil {
		return false
	}
	defer c.Close()
	s, err := c.NewSession()
	if err != nil {
		return false
	}
	defer s.Close()
	out, err := s.Output("echo ok")
	return err == nil && bytes.Equal(out, []byte("ok\n"))
}

func appendTo(t *testing.T, file string, lines []string) {
	t.Helper()
	f, err := os.OpenFile(file, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(strings.Join(lines, "\n") + "\n"); err != nil {
		t.Fatal(err)
	}
}

// writeRootFile writes rel under dir with mode, its missing directories
// 0755: root-owned and not group- or world-writable, as sshd's StrictModes
// wants every directory up to a key file.
func writeRootFile(t *testing.T, dir, rel, text string, mode os.FileMode) {
	t.Helper()
	p := filepath.Join(dir, rel)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(text), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, mode); err != nil { // whatever the umask
		t.Fatal(err)
	}
}
