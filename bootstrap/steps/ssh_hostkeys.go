package steps

import (
	"bytes"
	"crypto/rsa"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"
	"syscall"

	"golang.org/x/crypto/ssh"

	"github.com/hardbake/hardbake/bootstrap/distro"
	"github.com/hardbake/hardbake/bootstrap/profile"
	"github.com/hardbake/hardbake/bootstrap/report"
	"github.com/hardbake/hardbake/bootstrap/root"
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
// unreadable) that read as keys: each must pass hostKeyProblem. Keys that
// are missing or broken are no failure: the Detail names each and what first
// boot does about it before sshd starts (firstBootHeals; a sealed image has
// no keys at all). With ssh.crypto off hardbake leaves the key set to the
// distribution: only DSA and short RSA keys fail then.
func hostKeysCheck(env *Env, p profile.SSH, eff *sshdconfig.Effective) report.Check {
	allowed := p.HostKeyTypes
	if p.Crypto == sshcrypto.Off {
		allowed = nil
	}
	keys, loaded := firstBootKeys(env, eff, p.HostKeyTypes)
	var have, bad, firstBoot, skipped []string
	for i, k := range keys {
		switch {
		case firstBootHeals(k, p.HostKeyTypes):
			if env.Live() {
				// A running system has had its first boot.
				firstBoot = append(firstBoot, fmt.Sprintf("%s (%s)", k.Path, k.Why))
			} else {
				firstBoot = append(firstBoot, fmt.Sprintf("%s (%s; %s)", k.Path, k.Why, k.remedy()))
			}
		case loaded[i] && !k.State.Usable() && k.State != KeyMissing:
			skipped = append(skipped, k.Path+" ("+k.Why+")")
		}
		if !loaded[i] || k.Pub == nil || k.State == KeyBroken {
			continue
		}
		desc, problem := hostKeyProblem(ssh.MarshalAuthorizedKey(k.Pub), allowed)
		if problem != "" {
			bad = append(bad, k.Path+": "+problem)
			continue
		}
		have = append(have, desc)
	}
	want := fmt.Sprintf("RSA ≥ %d bits; no DSA", MinRSABits)
	if allowed != nil {
		want = "only " + strings.Join(allowed, ", ") + "; " + want
	}
	c := check("ssh.host_keys", want, want)
	if len(bad) > 0 {
		c = check("ssh.host_keys", want, strings.Join(bad, "; "))
	}
	var detail []string
	if len(have) == 0 {
		detail = append(detail, "no usable host key yet")
	} else {
		detail = append(detail, "loaded: "+strings.Join(have, ", "))
	}
	if len(firstBoot) > 0 {
		prefix := "before sshd starts: "
		if env.Live() {
			prefix = "this running system lacks: "
		}
		detail = append(detail, prefix+strings.Join(firstBoot, ", "))
	}
	if len(skipped) > 0 {
		detail = append(detail, "sshd skips: "+strings.Join(skipped, ", "))
	}
	c.Detail = strings.Join(detail, "; ")
	c.Refs = []string{"dev-sec:sshd-14"}
	return c
}

// KeyState is what sshd makes of one host key file.
type KeyState int

const (
	// KeyOK: a private key sshd loads, with a .pub that matches it.
	KeyOK KeyState = iota
	// KeyNoPub: sshd loads the private key (it needs nothing else), but its
	// .pub is missing, unreadable or another key's, so whatever shows the
	// host's fingerprint from the .pub (ssh-keygen -l, cloud-init's console
	// lines) shows the wrong one or none.
	KeyNoPub
	// KeyTooOpen: the key reads, but group or others may read it and sshd
	// ignores it ("UNPROTECTED PRIVATE KEY FILE").
	KeyTooOpen
	// KeyMissing: nothing at the path.
	KeyMissing
	// KeyBroken: something sshd cannot load as a host key of the file's type:
	// an empty file, a directory or other non-file, bytes that are no
	// private key, a key with a passphrase, or a key of another type than
	// the file name says.
	KeyBroken
)

// Usable reports whether sshd loads the key as it is.
func (s KeyState) Usable() bool { return s == KeyOK || s == KeyNoPub }

// remedy is what first boot does about k (HealHostKeys).
func (k HostKey) remedy() string {
	switch k.State {
	case KeyNoPub:
		return "first boot writes its .pub from it"
	case KeyTooOpen:
		return "first boot tightens its mode"
	case KeyMissing:
		return "first boot makes it"
	}
	return "first boot moves it aside and makes a new one"
}

// HostKey is one host key file as sshd would find it in the root.
type HostKey struct {
	Path  string // the private key, e.g. /etc/ssh/ssh_host_ed25519_key
	Type  string // ed25519, ecdsa, rsa: the file name's (ssh_host_<type>_key), else the key's; "" when neither tells
	State KeyState
	Why   string        // what is wrong, for the report ("" for KeyOK)
	Pub   ssh.PublicKey // the private key's public half; nil when it does not read
}

// HostKeyPath is the file sshd's default configuration and first boot use
// for a host key of type t.
func HostKeyPath(t string) string { return "/etc/ssh/ssh_host_" + t + "_key" }

// nameType is the type a host key file's name says (ssh_host_<type>_key),
// "" for other names.
func nameType(p string) string {
	t, ok := strings.CutPrefix(path.Base(p), "ssh_host_")
	t, ok2 := strings.CutSuffix(t, "_key")
	if ok && ok2 && slices.Contains(profile.HostKeyTypes, t) {
		return t
	}
	return ""
}

// keyType is the profile's name for a key's type.
func keyType(k ssh.PublicKey) string {
	switch t := k.Type(); {
	case t == ssh.KeyAlgoED25519:
		return "ed25519"
	case strings.HasPrefix(t, "ecdsa-sha2-"):
		return "ecdsa"
	case t == ssh.KeyAlgoRSA:
		return "rsa"
	default:
		return t
	}
}

// InspectHostKey judges the host key at p (an in-root path) the way sshd
// loads it: a regular, non-empty file holding an unencrypted private key
// that only its owner may read (OpenSSH refuses anything more open; RHEL's
// build also accepts group ssh_keys with mode 0640, sshKeysGID), and beside
// it p.pub with the same public key. The private key is parsed with
// x/crypto/ssh, which reads every format ssh-keygen writes; a caller about
// to replace a KeyBroken file it could not parse asks the target's own
// ssh-keygen first (first boot does).
func InspectHostKey(r *root.Root, p string, sshKeysGID int) HostKey {
	k := HostKey{Path: p, Type: nameType(p)}
	broken := func(why string) HostKey { k.State, k.Why = KeyBroken, why; return k }
	fi, err := r.Stat(p)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		k.State, k.Why = KeyMissing, "missing"
		return k
	case err != nil:
		return broken(err.Error())
	case !fi.Mode().IsRegular():
		// A directory or a FIFO is never read: a FIFO would block.
		return broken(notAFile(fi.Mode()))
	case fi.Size() == 0:
		return broken("empty")
	}
	data, err := r.ReadFile(p)
	if errors.Is(err, fs.ErrPermission) {
		// Not root (an audit run by a user): sshd, as root, reads it, so
		// only the .pub can be judged.
		if line, err := r.ReadFile(p + ".pub"); err == nil {
			if pub, _, _, _, err := ssh.ParseAuthorizedKey(line); err == nil {
				k.Pub = pub
			}
		}
		k.Why = "private key not readable by this user"
		return k
	}
	if err != nil {
		return broken(err.Error())
	}
	raw, err := ssh.ParseRawPrivateKey(data)
	var pme *ssh.PassphraseMissingError
	if errors.As(err, &pme) {
		return broken("has a passphrase (sshd loads host keys without one)")
	}
	if err != nil {
		return broken("not a private key: " + err.Error())
	}
	signer, err := ssh.NewSignerFromKey(raw)
	if err != nil {
		return broken("not a private key: " + err.Error())
	}
	k.Pub = signer.PublicKey()
	switch t := keyType(k.Pub); {
	case k.Type == "":
		k.Type = t
	case t != k.Type:
		return broken("holds a " + t + " key, not " + k.Type)
	}
	if why := tooOpen(fi, sshKeysGID); why != "" {
		k.State, k.Why = KeyTooOpen, why
		return k
	}
	pubLine, err := r.ReadFile(p + ".pub")
	if err != nil {
		k.State, k.Why = KeyNoPub, "no "+path.Base(p)+".pub"
		return k
	}
	pub, _, _, _, err := ssh.ParseAuthorizedKey(pubLine)
	if err != nil || !bytes.Equal(pub.Marshal(), k.Pub.Marshal()) {
		k.State, k.Why = KeyNoPub, path.Base(p)+".pub is not this key's public half"
		return k
	}
	return k
}

// notAFile names what a non-regular file is.
func notAFile(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory, not a file"
	case m&fs.ModeNamedPipe != 0:
		return "a FIFO, not a file"
	case m&fs.ModeSocket != 0:
		return "a socket, not a file"
	case m&fs.ModeDevice != 0:
		return "a device, not a file"
	}
	return "not a regular file"
}

// tooOpen says why sshd ignores a private key for its mode: sshd, running
// as root, refuses a key it owns that group or others may access
// (sshkey_perm_ok), except on RHEL-family builds, which allow group
// ssh_keys to read it (sshKeysGID: that group's id in the image, -1 when it
// has none).
func tooOpen(fi fs.FileInfo, sshKeysGID int) string {
	st, ok := fi.Sys().(*syscall.Stat_t)
	perm := fi.Mode().Perm()
	if !ok || st.Uid != 0 || perm&0o077 == 0 {
		return ""
	}
	if sshKeysGID >= 0 && int(st.Gid) == sshKeysGID && perm&0o037 == 0 {
		return ""
	}
	return fmt.Sprintf("mode %#o: sshd ignores a private key that others may read", perm)
}

// SSHKeysGID is the id of the image's ssh_keys group on the RHEL and
// Fedora families, whose sshd is patched to accept host keys root:ssh_keys
// 0640 (their sshd-keygen makes them so); -1 elsewhere or without the group.
// A group of that name on another family changes nothing: its sshd ignores
// such a key.
func SSHKeysGID(env *Env) int {
	if env.Distro.Family != distro.RHEL && env.Distro.Family != distro.Fedora {
		return -1
	}
	data, err := env.Root.ReadFile("/etc/group")
	if err != nil {
		return -1
	}
	if g, ok := distro.LookupGroup(string(data), "ssh_keys"); ok {
		return g.GID
	}
	return -1
}

// hostKeyFiles are the private host key files sshd loads under eff: its
// HostKey lines, or sshd's compiled-in defaults when there are none (or
// eff is nil: the configuration does not read). configured reports which.
func hostKeyFiles(eff *sshdconfig.Effective) (files []string, configured bool) {
	if eff != nil {
		for _, v := range eff.All("hostkey") {
			if len(v.Args) > 0 && !slices.Contains(files, v.Args[0]) {
				files = append(files, v.Args[0])
			}
		}
	}
	if len(files) == 0 {
		return sshdDefaultHostKeys, false
	}
	return files, true
}

// firstBootHeals reports whether first boot makes or repairs k: a key of
// one of the profile's types at its usual path that is not KeyOK, and any
// other key sshd loads whose type is known and which exists but is not
// KeyOK. A missing key of a type the profile does not ask for stays
// missing; sshd skips it without a word.
func firstBootHeals(k HostKey, types []string) bool {
	if k.State == KeyOK || k.Type == "" {
		return false
	}
	wanted := k.Path == HostKeyPath(k.Type) && slices.Contains(types, k.Type)
	return wanted || k.State != KeyMissing
}

// firstBootKeys are the host key files that matter at first boot, judged:
// every file sshd loads under the configuration on disk (hostKeyFiles),
// then the usual paths of the profile's types that are not among them
// (first boot makes those whatever the configuration says). loaded tells
// which sshd loads.
func firstBootKeys(env *Env, eff *sshdconfig.Effective, types []string) (keys []HostKey, loaded []bool) {
	files, _ := hostKeyFiles(eff)
	n := len(files)
	for _, t := range types {
		if p := HostKeyPath(t); !slices.Contains(files, p) {
			files = append(files, p)
		}
	}
	gid := SSHKeysGID(env)
	for i, f := range files {
		keys = append(keys, InspectHostKey(env.Root, f, gid))
		loaded = append(loaded, i < n)
	}
	return keys, loaded
}

// HostKeysToHeal are the host keys first boot must make or repair before
// sshd starts (firstBootHeals), judged as the root holds them now.
func HostKeysToHeal(env *Env, types []string) []HostKey {
	eff, _ := sshdconfig.Load(env.Root, SSHDConfig)
	keys, _ := firstBootKeys(env, eff, types)
	var out []HostKey
	for _, k := range keys {
		if firstBootHeals(k, types) {
			out = append(out, k)
		}
	}
	return out
}
