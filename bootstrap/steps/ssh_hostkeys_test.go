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
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"syscall"
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
// else its three defaults), not at every file in /etc/ssh; a key first boot
// will make or repair is named in the detail and is no failure.
func TestHostKeysCheck(t *testing.T) {
	_, ed, _ := ed25519.GenerateKey(rand.Reader)
	short, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	setup := func(t *testing.T, config string, keys map[string]crypto.Signer) *Env {
		dir := t.TempDir()
		os.MkdirAll(filepath.Join(dir, "etc/ssh"), 0o755)
		os.WriteFile(filepath.Join(dir, "etc/ssh/sshd_config"), []byte(config), 0o644)
		for name, key := range keys {
			writeKeyPair(t, filepath.Join(dir, "etc/ssh", name), key)
		}
		r, err := root.Dir(dir)
		if err != nil {
			t.Fatal(err)
		}
		return &Env{Root: r}
	}
	p := profile.Default().SSH

	env := setup(t, "HostKey /etc/ssh/ssh_host_ed25519_key\n", map[string]crypto.Signer{"ssh_host_ed25519_key": ed, "ssh_host_rsa_key": short})
	if c := hostKeysCheck(env, p, loaded(t, env)); !c.OK || c.Detail != "loaded: ed25519" {
		t.Errorf("only ed25519 loaded (a short RSA key lies unused): %+v", c)
	}
	env = setup(t, "# no HostKey: sshd's defaults\n", map[string]crypto.Signer{"ssh_host_ed25519_key": ed, "ssh_host_rsa_key": short})
	if c := hostKeysCheck(env, p, loaded(t, env)); c.OK || !strings.Contains(c.Got, "/etc/ssh/ssh_host_rsa_key: RSA key of 2048 bits") {
		t.Errorf("default key set with a 2048-bit RSA key must fail: %+v", c)
	}
	env = setup(t, "HostKey /etc/ssh/ssh_host_ed25519_key\n", nil)
	if c := hostKeysCheck(env, p, loaded(t, env)); !c.OK || c.Detail != "no usable host key yet; before sshd starts: /etc/ssh/ssh_host_ed25519_key (missing; first boot makes it)" {
		t.Errorf("sealed image without keys: %+v", c)
	}
	off := p
	off.Crypto = sshcrypto.Off
	env = setup(t, "", map[string]crypto.Signer{"ssh_host_ed25519_key": ed, "ssh_host_ecdsa_key": ec})
	if c := hostKeysCheck(env, off, loaded(t, env)); !c.OK {
		t.Errorf("crypto off leaves the distribution's ecdsa key alone: %+v", c)
	}
	if c := hostKeysCheck(env, p, loaded(t, env)); c.OK {
		t.Errorf("crypto modern with a loaded ecdsa key not in host_key_types must fail: %+v", c)
	}

	// sshd's defaults (crypto off): an empty RSA key is one first boot
	// replaces although the profile does not ask for RSA, a missing ecdsa
	// key is one sshd skips, and a private key without its .pub still loads.
	env = setup(t, "", map[string]crypto.Signer{"ssh_host_ed25519_key": ed})
	os.Remove(env.Root.HostPath("/etc/ssh/ssh_host_ed25519_key.pub"))
	os.WriteFile(env.Root.HostPath("/etc/ssh/ssh_host_rsa_key"), nil, 0o600)
	want := "loaded: ed25519; before sshd starts: /etc/ssh/ssh_host_rsa_key (empty; first boot moves it aside and makes a new one), " +
		"/etc/ssh/ssh_host_ed25519_key (no ssh_host_ed25519_key.pub; first boot writes its .pub from it)"
	if c := hostKeysCheck(env, off, loaded(t, env)); !c.OK || c.Detail != want {
		t.Errorf("broken keys:\n got %+v\nwant detail %s", c, want)
	}
}

// writeKeyPair writes key in OpenSSH's format to p (0600) and its public
// half to p.pub (0644), as ssh-keygen does.
func writeKeyPair(t *testing.T, p string, key crypto.Signer) {
	t.Helper()
	block, err := ssh.MarshalPrivateKey(key, "test")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, pem.EncodeToMemory(block), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p+".pub", authorizedLine(t, key.Public()), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestInspectHostKey: each way a host key file can be wrong, judged as
// sshd loads it.
func TestInspectHostKey(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "etc/ssh"), 0o755)
	r, err := root.Dir(dir)
	if err != nil {
		t.Fatal(err)
	}
	_, ed, _ := ed25519.GenerateKey(rand.Reader)
	_, other, _ := ed25519.GenerateKey(rand.Reader)
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	const key = "/etc/ssh/ssh_host_ed25519_key"
	host := r.HostPath(key)
	encrypted, err := ssh.MarshalPrivateKeyWithPassphrase(ed, "", []byte("secret"))
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name  string
		setup func()
		gid   int // the image's ssh_keys group, -1: none
		state KeyState
		why   string
	}{
		{"a good pair", func() { writeKeyPair(t, host, ed) }, -1, KeyOK, ""},
		{"missing", func() {}, -1, KeyMissing, "missing"},
		{"empty", func() { os.WriteFile(host, nil, 0o600) }, -1, KeyBroken, "empty"},
		{"a directory", func() { os.Mkdir(host, 0o700) }, -1, KeyBroken, "a directory, not a file"},
		{"a FIFO (never opened: it would block)", func() { syscall.Mkfifo(host, 0o600) }, -1, KeyBroken, "a FIFO, not a file"},
		{"garbage", func() { os.WriteFile(host, []byte("not a key\n"), 0o600) }, -1, KeyBroken, "not a private key"},
		{"a passphrase", func() { os.WriteFile(host, pem.EncodeToMemory(encrypted), 0o600) }, -1, KeyBroken, "has a passphrase"},
		{"another type than its name", func() { writeKeyPair(t, host, ec) }, -1, KeyBroken, "holds a ecdsa key, not ed25519"},
		{"no .pub", func() { writeKeyPair(t, host, ed); os.Remove(host + ".pub") }, -1, KeyNoPub, "no ssh_host_ed25519_key.pub"},
		{"another key's .pub", func() {
			writeKeyPair(t, host, ed)
			os.WriteFile(host+".pub", authorizedLine(t, other.Public()), 0o644)
		}, -1, KeyNoPub, "ssh_host_ed25519_key.pub is not this key's public half"},
		{"readable by others", func() { writeKeyPair(t, host, ed); os.Chmod(host, 0o644) }, -1, KeyTooOpen, "mode 0644"},
		{"0640 without an ssh_keys group", func() { writeKeyPair(t, host, ed); os.Chmod(host, 0o640) }, -1, KeyTooOpen, "mode 0640"},
		{"0640 root:ssh_keys (RHEL family)", func() {
			writeKeyPair(t, host, ed)
			os.Chmod(host, 0o640)
			os.Chown(host, 0, 996)
		}, 996, KeyOK, ""},
		{"0644 root:ssh_keys", func() {
			writeKeyPair(t, host, ed)
			os.Chmod(host, 0o644)
			os.Chown(host, 0, 996)
		}, 996, KeyTooOpen, "mode 0644"},
	}
	for _, c := range cases {
		os.RemoveAll(host)
		os.Remove(host + ".pub")
		c.setup()
		k := InspectHostKey(r, key, c.gid)
		if k.State != c.state || !strings.HasPrefix(k.Why, c.why) || k.Type != "ed25519" {
			t.Errorf("%s: got %+v, want state %d, why %q", c.name, k, c.state, c.why)
		}
		if k.State.Usable() != (k.State == KeyOK || k.State == KeyNoPub) {
			t.Errorf("%s: usable is %v", c.name, k.State.Usable())
		}
	}
}

// TestTestHostKeys: the host keys a test run of sshd gets on an image, as
// -h arguments.
func TestTestHostKeys(t *testing.T) {
	_, ed, _ := ed25519.GenerateKey(rand.Reader)
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	setup := func(t *testing.T, config string) *Env {
		dir := t.TempDir()
		os.MkdirAll(filepath.Join(dir, "etc/ssh"), 0o755)
		os.WriteFile(filepath.Join(dir, "etc/ssh/sshd_config"), []byte(config), 0o644)
		writeKeyPair(t, filepath.Join(dir, "etc/ssh/ssh_host_ecdsa_key"), ec)
		r, err := root.Dir(dir)
		if err != nil {
			t.Fatal(err)
		}
		return &Env{Root: r, Profile: profile.Default()}
	}
	const tempED = "/run/hardbake-sshd-test-*/ssh_host_ed25519_key"
	cases := []struct {
		name, config string
		ed25519      func(env *Env) // what the image holds at /etc/ssh/ssh_host_ed25519_key
		want         []string       // -h values, as patterns
	}{
		{"the profile's key is there", "HostKey /etc/ssh/ssh_host_ed25519_key\n",
			func(env *Env) { writeKeyPair(t, env.Root.HostPath(HostKeyPath("ed25519")), ed) }, nil},
		{"missing: a temporary one; sshd adds it to the HostKey lines", "HostKey /etc/ssh/ssh_host_ed25519_key\n",
			func(*Env) {}, []string{tempED}},
		{"broken: a temporary one", "HostKey /etc/ssh/ssh_host_ed25519_key\n",
			func(env *Env) { os.WriteFile(env.Root.HostPath(HostKeyPath("ed25519")), nil, 0o600) }, []string{tempED}},
		{"without its .pub sshd loads it as it is", "HostKey /etc/ssh/ssh_host_ed25519_key\n",
			func(env *Env) {
				writeKeyPair(t, env.Root.HostPath(HostKeyPath("ed25519")), ed)
				os.Remove(env.Root.HostPath(HostKeyPath("ed25519") + ".pub"))
			}, nil},
		{"no HostKey lines: -h replaces the defaults, so the usable ones are passed too", "",
			func(*Env) {}, []string{"/etc/ssh/ssh_host_ecdsa_key", tempED}},
		{"only a custom key first boot cannot make: one temporary key all the same", "HostKey /etc/ssh/custom\n",
			func(*Env) {}, []string{tempED}},
	}
	for _, c := range cases {
		env := setup(t, c.config)
		c.ed25519(env)
		args, cleanup, err := testHostKeys(env)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		var got []string
		for i := 0; i+1 < len(args); i += 2 {
			if args[i] != "-h" {
				t.Fatalf("%s: %q", c.name, args)
			}
			got = append(got, args[i+1])
			if _, err := os.Stat(env.Root.HostPath(args[i+1])); err != nil {
				t.Errorf("%s: %v", c.name, err)
			}
		}
		if len(got) != len(c.want) {
			t.Errorf("%s: -h %q, want %q", c.name, got, c.want)
		} else {
			for i := range got {
				if ok, _ := filepath.Match(c.want[i], got[i]); !ok {
					t.Errorf("%s: -h %q, want %q", c.name, got, c.want)
				}
			}
		}
		cleanup()
		if left, _ := filepath.Glob(env.Root.HostPath("/run/hardbake-sshd-test-*")); len(left) > 0 {
			t.Errorf("%s: left behind: %v", c.name, left)
		}
	}
}

// TestTempHostKey: each type's throwaway key is one sshd's format reader
// (x/crypto/ssh here; the real sshd in the tests with Debian roots) takes.
func TestTempHostKey(t *testing.T) {
	for _, typ := range profile.HostKeyTypes {
		data, err := tempHostKey(typ)
		if err != nil {
			t.Fatalf("%s: %v", typ, err)
		}
		signer, err := ssh.ParsePrivateKey(data)
		if err != nil {
			t.Fatalf("%s: %v", typ, err)
		}
		if got := keyType(signer.PublicKey()); got != typ {
			t.Errorf("asked for %s, got %s", typ, got)
		}
	}
	if _, err := tempHostKey("dsa"); err == nil {
		t.Error("a dsa temporary key")
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
