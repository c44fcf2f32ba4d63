package steps

import (
	"crypto"
	"crypto/dsa"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"

	"github.com/hardbake/hardbake/bootstrap/profile"
	"github.com/hardbake/hardbake/bootstrap/root"
	"github.com/hardbake/hardbake/bootstrap/sshcrypto"
	"github.com/hardbake/hardbake/bootstrap/sshdconfig"
)

func authorizedLine(t *testing.T, pub crypto.PublicKey) []byte {
	t.Helper()
	k, err := ssh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return ssh.MarshalAuthorizedKey(k)
}

func rsaPub(t *testing.T, bits int) []byte {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, bits)
	if err != nil {
		t.Fatal(err)
	}
	return authorizedLine(t, &k.PublicKey)
}

// TestHostKeyProblem: the judgement of one host public key.
func TestHostKeyProblem(t *testing.T) {
	edPub, _, _ := ed25519.GenerateKey(rand.Reader)
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	var dk dsa.PrivateKey
	if err := dsa.GenerateParameters(&dk.Parameters, rand.Reader, dsa.L1024N160); err != nil {
		t.Fatal(err)
	}
	if err := dsa.GenerateKey(&dk, rand.Reader); err != nil {
		t.Fatal(err)
	}
	// x/crypto/ssh no longer marshals DSA keys: RFC 4253's ssh-dss blob by hand.
	blob := ssh.Marshal(struct {
		Name       string
		P, Q, G, Y *big.Int
	}{"ssh-dss", dk.P, dk.Q, dk.G, dk.Y})
	dsaKey := []byte("ssh-dss " + base64.StdEncoding.EncodeToString(blob) + " root@old\n")
	ed, ecd, rsa2048, rsa3072 := authorizedLine(t, edPub), authorizedLine(t, &ec.PublicKey), rsaPub(t, 2048), rsaPub(t, 3072)
	cases := []struct {
		name    string
		pub     []byte
		allowed []string
		desc    string
		problem string // substring; "" = acceptable
	}{
		{"ed25519 allowed", ed, []string{"ed25519"}, "ed25519", ""},
		{"ecdsa not asked for", ecd, []string{"ed25519"}, "ecdsa", "ecdsa is not in ssh.host_key_types"},
		{"ecdsa asked for", ecd, []string{"ed25519", "ecdsa"}, "ecdsa", ""},
		{"rsa 3072 asked for", rsa3072, []string{"ed25519", "rsa"}, "rsa 3072 bits", ""},
		{"rsa 2048 too short", rsa2048, []string{"ed25519", "rsa"}, "rsa 2048 bits", "RSA key of 2048 bits, want at least 3072"},
		{"rsa 2048 too short even with crypto off", rsa2048, nil, "rsa 2048 bits", "want at least 3072"},
		{"rsa 3072 not asked for", rsa3072, []string{"ed25519"}, "rsa 3072 bits", "rsa is not in ssh.host_key_types"},
		{"dsa never", dsaKey, nil, "dsa", "DSA host key"},
		{"garbage", []byte("ssh-ed25519 AAAA!!\n"), nil, "unreadable", "not an SSH public key"},
	}
	for _, c := range cases {
		desc, problem := hostKeyProblem(c.pub, c.allowed)
		if desc != c.desc || (c.problem == "") != (problem == "") || !strings.Contains(problem, c.problem) {
			t.Errorf("%s: got (%q, %q), want (%q, ~%q)", c.name, desc, problem, c.desc, c.problem)
		}
	}
}

// TestHostKeysCheck: the audit looks at the keys sshd loads (HostKey lines,
// else its three defaults), not at every file in /etc/ssh.
func TestHostKeysCheck(t *testing.T) {
	edPub, _, _ := ed25519.GenerateKey(rand.Reader)
	ed, short := authorizedLine(t, edPub), rsaPub(t, 2048)
	setup := func(t *testing.T, config string, files map[string][]byte) *Env {
		dir := t.TempDir()
		os.MkdirAll(filepath.Join(dir, "etc/ssh"), 0o755)
		os.WriteFile(filepath.Join(dir, "etc/ssh/sshd_config"), []byte(config), 0o644)
		for name, data := range files {
			os.WriteFile(filepath.Join(dir, "etc/ssh", name), data, 0o644)
		}
		r, err := root.Dir(dir)
		if err != nil {
			t.Fatal(err)
		}
		return &Env{Root: r}
	}
	p := profile.Default().SSH

	env := setup(t, "HostKey /etc/ssh/ssh_host_ed25519_key\n", map[string][]byte{"ssh_host_ed25519_key.pub": ed, "ssh_host_rsa_key.pub": short})
	if c := hostKeysCheck(env, p, loaded(t, env)); !c.OK || !strings.Contains(c.Detail, "loaded: ed25519") {
		t.Errorf("only ed25519 loaded (a short RSA file lies unused): %+v", c)
	}
	env = setup(t, "# no HostKey: sshd's defaults\n", map[string][]byte{"ssh_host_ed25519_key.pub": ed, "ssh_host_rsa_key.pub": short})
	if c := hostKeysCheck(env, p, loaded(t, env)); c.OK || !strings.Contains(c.Got, "/etc/ssh/ssh_host_rsa_key: RSA key of 2048 bits") {
		t.Errorf("default key set with a 2048-bit RSA key must fail: %+v", c)
	}
	env = setup(t, "HostKey /etc/ssh/ssh_host_ed25519_key\n", nil)
	if c := hostKeysCheck(env, p, loaded(t, env)); !c.OK || !strings.Contains(c.Detail, "no host key yet") {
		t.Errorf("sealed image without keys: %+v", c)
	}
	off := p
	off.Crypto = sshcrypto.Off
	env = setup(t, "", map[string][]byte{"ssh_host_ed25519_key.pub": ed, "ssh_host_ecdsa_key.pub": authorizedLine(t, mustECDSA(t))})
	if c := hostKeysCheck(env, off, loaded(t, env)); !c.OK {
		t.Errorf("crypto off leaves the distribution's ecdsa key alone: %+v", c)
	}
	if c := hostKeysCheck(env, p, loaded(t, env)); c.OK {
		t.Errorf("crypto modern with a loaded ecdsa key not in host_key_types must fail: %+v", c)
	}
}

func mustECDSA(t *testing.T) *ecdsa.PublicKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return &k.PublicKey
}

// loaded is the configuration as the ssh check reads it.
func loaded(t *testing.T, env *Env) *sshdconfig.Effective {
	t.Helper()
	eff, err := sshdconfig.Load(env.Root, SSHDConfig)
	if err != nil {
		t.Fatal(err)
	}
	return eff
}
