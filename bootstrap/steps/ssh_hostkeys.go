package steps

import (
	"crypto/rsa"
	"fmt"
	"slices"
	"strings"

	"golang.org/x/crypto/ssh"

	"github.com/hardbake/hardbake/bootstrap/profile"
	"github.com/hardbake/hardbake/bootstrap/report"
	"github.com/hardbake/hardbake/bootstrap/sshcrypto"
	"github.com/hardbake/hardbake/bootstrap/sshdconfig"
)

// MinRSABits is the smallest RSA host key the audit accepts: ssh-keygen's
// default since OpenSSH 8.0 and NIST's floor for use beyond 2030 (dev-sec
// ssh-baseline and ssh-audit both flag 2048-bit host keys).
const MinRSABits = 3072

// sshdDefaultHostKeys are the files sshd loads when no HostKey line is set.
var sshdDefaultHostKeys = []string{"/etc/ssh/ssh_host_rsa_key", "/etc/ssh/ssh_host_ecdsa_key", "/etc/ssh/ssh_host_ed25519_key"}

// hostKeyProblem judges one host public key (an authorized_keys-format line
// from the .pub file) against the profile's key types: DSA never, RSA only
// when listed and only with at least MinRSABits, other types only when
// listed (allowed nil: any type but DSA). It returns the key's short
// description and "" when acceptable.
func hostKeyProblem(pub []byte, allowed []string) (desc, problem string) {
	if f := strings.Fields(string(pub)); len(f) > 0 && f[0] == "ssh-dss" {
		// x/crypto/ssh no longer parses DSA keys; the type name is enough.
		return "dsa", "DSA host key (OpenSSH removed DSA in 10.0)"
	}
	key, _, _, _, err := ssh.ParseAuthorizedKey(pub)
	if err != nil {
		return "unreadable", "not an SSH public key: " + err.Error()
	}
	typ := key.Type()
	switch {
	case typ == ssh.KeyAlgoED25519:
		desc = "ed25519"
	case strings.HasPrefix(typ, "ecdsa-sha2-"):
		desc = "ecdsa"
	case typ == ssh.KeyAlgoRSA:
		desc = "rsa"
		if ck, ok := key.(ssh.CryptoPublicKey); ok {
			if rk, ok := ck.CryptoPublicKey().(*rsa.PublicKey); ok {
				bits := rk.N.BitLen()
				desc = fmt.Sprintf("rsa %d bits", bits)
				if bits < MinRSABits {
					return desc, fmt.Sprintf("RSA key of %d bits, want at least %d", bits, MinRSABits)
				}
			}
		}
	default:
		desc = typ
	}
	kind, _, _ := strings.Cut(desc, " ")
	if allowed != nil && !slices.Contains(allowed, kind) {
		return desc, kind + " is not in ssh.host_key_types (" + strings.Join(allowed, ", ") + ")"
	}
	return desc, ""
}

// hostKeysCheck reports the host keys sshd loads (HostKey lines of eff, the
// configuration as the ssh check read it, or sshd's defaults when eff is nil:
// unreadable) that exist: each must pass hostKeyProblem. Keys not made yet (a
// sealed image: first boot makes them) are not a failure. With ssh.crypto
// off hardbake leaves the key set to the distribution: only DSA and short RSA
// keys fail then.
func hostKeysCheck(env *Env, p profile.SSH, eff *sshdconfig.Effective) report.Check {
	allowed := p.HostKeyTypes
	if p.Crypto == sshcrypto.Off {
		allowed = nil
	}
	paths := sshdDefaultHostKeys
	if eff != nil {
		if vals := eff.All("hostkey"); len(vals) > 0 {
			paths = nil
			for _, v := range vals {
				if len(v.Args) > 0 && !slices.Contains(paths, v.Args[0]) {
					paths = append(paths, v.Args[0])
				}
			}
		}
	}
	var have, bad []string
	for _, p := range paths {
		pub, err := env.Root.ReadFile(p + ".pub")
		if err != nil {
			continue
		}
		desc, problem := hostKeyProblem(pub, allowed)
		if problem != "" {
			bad = append(bad, p+": "+problem)
			continue
		}
		have = append(have, desc)
	}
	want := fmt.Sprintf("RSA ≥ %d bits; no DSA", MinRSABits)
	if allowed != nil {
		want = "only " + strings.Join(allowed, ", ") + "; " + want
	}
	c := check("ssh.host_keys", want, want)
	switch {
	case len(bad) > 0:
		c = check("ssh.host_keys", want, strings.Join(bad, "; "))
	case len(have) == 0:
		c.Detail = "no host key yet: first boot makes " + strings.Join(p.HostKeyTypes, ", ")
	default:
		c.Detail = "loaded: " + strings.Join(have, ", ")
	}
	c.Refs = []string{"dev-sec:sshd-14"}
	return c
}
