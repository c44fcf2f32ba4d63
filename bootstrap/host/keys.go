package host

import (
	"crypto/rsa"
	"fmt"
	"strings"
	"unicode"

	"golang.org/x/crypto/ssh"
)

// Key is one validated public key.
type Key struct {
	Type        string // ssh-ed25519, ecdsa-sha2-nistp256, ...
	Fingerprint string // SHA256:...
	Comment     string
	// Line is the authorized_keys line written for it: type, base64 and
	// comment, re-encoded from the parsed key (never the raw input).
	Line string
}

// minRSABits: OpenSSH refuses RSA keys under 1024 bits; 2048 is the floor
// every current guideline sets.
const minRSABits = 2048

// allowedKeyTypes are the key types OpenSSH accepts by default that hardbake
// writes. DSA is gone from OpenSSH; certificates are not keys.
var allowedKeyTypes = map[string]bool{
	ssh.KeyAlgoED25519:    true,
	ssh.KeyAlgoSKED25519:  true,
	ssh.KeyAlgoECDSA256:   true,
	ssh.KeyAlgoECDSA384:   true,
	ssh.KeyAlgoECDSA521:   true,
	ssh.KeyAlgoSKECDSA256: true,
	ssh.KeyAlgoRSA:        true,
}

// ParseKey validates one authorized_keys entry. The message says what is
// wrong without echoing the key back.
func ParseKey(s string) (Key, error) {
	if strings.ContainsAny(s, "\n\r") {
		return Key{}, fmt.Errorf("holds a line break: give one key per list item (a line break would smuggle a second authorized_keys line)")
	}
	for _, r := range s {
		if r != '\t' && (unicode.IsControl(r) || r == unicode.ReplacementChar) {
			return Key{}, fmt.Errorf("holds a control character (%U)", r)
		}
	}
	s = strings.TrimSpace(s)
	if s == "" {
		return Key{}, fmt.Errorf("is empty")
	}
	pub, comment, options, rest, err := ssh.ParseAuthorizedKey([]byte(s))
	if err != nil {
		if strings.HasPrefix(s, "ssh-dss ") {
			return Key{}, fmt.Errorf("DSA keys (ssh-dss) are refused: OpenSSH removed DSA support; use ssh-ed25519")
		}
		return Key{}, fmt.Errorf("is not an SSH public key (%v)", err)
	}
	if len(rest) > 0 {
		return Key{}, fmt.Errorf("holds more than one key")
	}
	if len(options) > 0 {
		names := make([]string, len(options))
		for i, o := range options {
			name, _, _ := strings.Cut(o, "=")
			names[i] = name
		}
		return Key{}, fmt.Errorf("has authorized_keys options (%s): options are not accepted in host data, list the plain key", strings.Join(names, ", "))
	}
	typ := pub.Type()
	switch {
	case typ == ssh.KeyAlgoDSA:
		return Key{}, fmt.Errorf("DSA keys (ssh-dss) are refused: OpenSSH removed DSA support; use ssh-ed25519")
	case strings.Contains(typ, "-cert-"):
		return Key{}, fmt.Errorf("is a certificate (%s), not a key", typ)
	case !allowedKeyTypes[typ]:
		return Key{}, fmt.Errorf("key type %s is not accepted", typ)
	}
	if typ == ssh.KeyAlgoRSA {
		if cpk, ok := pub.(ssh.CryptoPublicKey); ok {
			if rk, ok := cpk.CryptoPublicKey().(*rsa.PublicKey); ok && rk.N.BitLen() < minRSABits {
				return Key{}, fmt.Errorf("RSA key of %d bits is too short (at least %d)", rk.N.BitLen(), minRSABits)
			}
		}
	}
	line := strings.TrimSpace(string(ssh.MarshalAuthorizedKey(pub)))
	if comment != "" {
		line += " " + comment
	}
	return Key{Type: typ, Fingerprint: ssh.FingerprintSHA256(pub), Comment: comment, Line: line}, nil
}
