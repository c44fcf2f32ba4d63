// Package sshcrypto is hardbake's table of OpenSSH algorithms: which release
// introduced each, and which crypto level (modern, compatible) offers it. The
// ssh step picks the lists for the target's own sshd version from it, so a
// name the target does not know is never written (sshd refuses to start on
// one: mlkem768x25519-sha256 on OpenSSH 9.2, for instance).
package sshcrypto

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/hardbake/hardbake/internal/names"
)

// Levels are the values ssh.crypto accepts.
const (
	Modern     = "modern"
	Compatible = "compatible"
	Off        = "off"
)

// Levels lists them for validation messages.
var Levels = []string{Modern, Compatible, Off}

// Kinds of algorithm, named by the sshd_config keyword that lists them.
const (
	Kex      = "KexAlgorithms"
	Ciphers  = "Ciphers"
	MACs     = "MACs"
	HostKeys = "HostKeyAlgorithms"
)

// KindOrder is the order the keywords are written in.
var KindOrder = []string{Kex, Ciphers, MACs, HostKeys}

// Version is an OpenSSH release, e.g. 9.2.
type Version struct{ Major, Minor int }

func (v Version) String() string { return fmt.Sprintf("%d.%d", v.Major, v.Minor) }

// AtLeast reports whether v is release o or later.
func (v Version) AtLeast(o Version) bool {
	return v.Major > o.Major || v.Major == o.Major && v.Minor >= o.Minor
}

// ParseBanner reads the version from `sshd -V` output ("OpenSSH_9.2p1
// Debian-2+deb12u3, OpenSSL ..."): the first "OpenSSH_" followed by
// MAJOR.MINOR, as the regular expression OpenSSH_(\d+)\.(\d+) finds it.
func ParseBanner(s string) (Version, bool) {
	const tag = "OpenSSH_"
	for {
		i := strings.Index(s, tag)
		if i < 0 {
			return Version{}, false
		}
		s = s[i+len(tag):]
		if v, _, ok := majorMinor(s); ok {
			return v, true
		}
	}
}

// ParsePackage reads the version from a package version ("1:9.2p1-2+deb12u3",
// "9.9p1-2"): ^(?:\d+:)?(\d+)\.(\d+)p.
func ParsePackage(s string) (Version, bool) {
	if n := digits(s); n > 0 && n < len(s) && s[n] == ':' {
		s = s[n+1:] // the epoch
	}
	v, rest, ok := majorMinor(s)
	if !ok || !strings.HasPrefix(rest, "p") {
		return Version{}, false
	}
	return v, true
}

// majorMinor reads \d+\.\d+ at the start of s and returns what follows.
// A number too long for an int reads as strconv.Atoi leaves it (clamped).
func majorMinor(s string) (v Version, rest string, ok bool) {
	n := digits(s)
	if n == 0 || n == len(s) || s[n] != '.' {
		return Version{}, s, false
	}
	m := digits(s[n+1:])
	if m == 0 {
		return Version{}, s, false
	}
	maj, _ := strconv.Atoi(s[:n])
	min, _ := strconv.Atoi(s[n+1 : n+1+m])
	return Version{maj, min}, s[n+1+m:], true
}

// digits counts the ASCII digits at the start of s.
func digits(s string) int {
	n := 0
	for n < len(s) && names.Digit(s[n]) {
		n++
	}
	return n
}

// Algorithm is one entry of the table.
type Algorithm struct {
	Name  string
	Kind  string
	Since Version // first OpenSSH release that knows the name
	// Modern algorithms are offered by both levels; the others only by
	// compatible. Nothing here uses SHA-1, CBC, or encrypt-and-MAC with
	// a SHA-1 or 64-bit tag: those are never offered.
	Modern bool
	// KeyType ties a host key algorithm to the key file that serves it
	// (ssh.host_key_types); empty for the other kinds.
	KeyType string
}

// Table is in order of preference within each kind. Release numbers are
// from the OpenSSH release notes.
var Table = []Algorithm{
	{"mlkem768x25519-sha256", Kex, Version{9, 9}, true, ""},
	// The IANA name of sntrup761x25519-sha512@openssh.com: the same
	// algorithm, offered by modern under its old name only, since SCAP
	// Security Guide's CIS lists (sshd_use_strong_kex) know only that one.
	{"sntrup761x25519-sha512", Kex, Version{9, 9}, false, ""},
	{"sntrup761x25519-sha512@openssh.com", Kex, Version{8, 5}, true, ""},
	{"curve25519-sha256", Kex, Version{7, 4}, true, ""},
	{"curve25519-sha256@libssh.org", Kex, Version{6, 5}, true, ""},
	{"diffie-hellman-group16-sha512", Kex, Version{7, 3}, true, ""},
	{"diffie-hellman-group18-sha512", Kex, Version{7, 3}, true, ""},
	{"diffie-hellman-group-exchange-sha256", Kex, Version{4, 4}, false, ""},
	{"diffie-hellman-group14-sha256", Kex, Version{7, 3}, false, ""},
	{"ecdh-sha2-nistp256", Kex, Version{5, 7}, false, ""},
	{"ecdh-sha2-nistp384", Kex, Version{5, 7}, false, ""},
	{"ecdh-sha2-nistp521", Kex, Version{5, 7}, false, ""},

	{"chacha20-poly1305@openssh.com", Ciphers, Version{6, 5}, true, ""},
	{"aes256-gcm@openssh.com", Ciphers, Version{6, 2}, true, ""},
	{"aes128-gcm@openssh.com", Ciphers, Version{6, 2}, true, ""},
	{"aes256-ctr", Ciphers, Version{5, 2}, true, ""},
	{"aes192-ctr", Ciphers, Version{5, 2}, true, ""},
	{"aes128-ctr", Ciphers, Version{5, 2}, true, ""},

	{"hmac-sha2-512-etm@openssh.com", MACs, Version{6, 2}, true, ""},
	{"hmac-sha2-256-etm@openssh.com", MACs, Version{6, 2}, true, ""},
	// Sound, but not in SCAP Security Guide's CIS list (sshd_use_strong_macs
	// accepts only the HMAC-SHA2 ones): compatible only.
	{"umac-128-etm@openssh.com", MACs, Version{6, 2}, false, ""},
	{"hmac-sha2-512", MACs, Version{5, 9}, false, ""},
	{"hmac-sha2-256", MACs, Version{5, 9}, false, ""},
	{"umac-128@openssh.com", MACs, Version{6, 2}, false, ""},

	{"ssh-ed25519", HostKeys, Version{6, 5}, true, "ed25519"},
	{"ssh-ed25519-cert-v01@openssh.com", HostKeys, Version{6, 5}, true, "ed25519"},
	{"rsa-sha2-512", HostKeys, Version{7, 2}, true, "rsa"},
	{"rsa-sha2-256", HostKeys, Version{7, 2}, true, "rsa"},
	{"rsa-sha2-512-cert-v01@openssh.com", HostKeys, Version{7, 8}, true, "rsa"},
	{"rsa-sha2-256-cert-v01@openssh.com", HostKeys, Version{7, 8}, true, "rsa"},
	{"ecdsa-sha2-nistp256", HostKeys, Version{5, 7}, true, "ecdsa"},
	{"ecdsa-sha2-nistp384", HostKeys, Version{5, 7}, true, "ecdsa"},
	{"ecdsa-sha2-nistp521", HostKeys, Version{5, 7}, true, "ecdsa"},
	{"ecdsa-sha2-nistp256-cert-v01@openssh.com", HostKeys, Version{5, 7}, true, "ecdsa"},
	{"ecdsa-sha2-nistp384-cert-v01@openssh.com", HostKeys, Version{5, 7}, true, "ecdsa"},
	{"ecdsa-sha2-nistp521-cert-v01@openssh.com", HostKeys, Version{5, 7}, true, "ecdsa"},
}

// Lookup finds an algorithm by name.
func Lookup(name string) (Algorithm, bool) {
	for _, a := range Table {
		if a.Name == name {
			return a, true
		}
	}
	return Algorithm{}, false
}

// Names lists every algorithm name in the table.
func Names() []string {
	out := make([]string, len(Table))
	for i, a := range Table {
		out[i] = a.Name
	}
	return out
}

// Lists maps a keyword (Kex, Ciphers, MACs, HostKeys) to its algorithms.
type Lists map[string][]string

// Choose returns the lists for a level on OpenSSH v: every algorithm of the
// level that v knows, host key algorithms only for the key types the host
// has (hostKeyTypes, ssh-keygen -t names), plus the required ones v knows.
// Host key algorithms are the same for both levels: they follow the keys.
// Off returns nil.
func Choose(level string, v Version, hostKeyTypes, require []string) Lists {
	if level == Off {
		return nil
	}
	out := Lists{}
	for _, a := range Table {
		if !v.AtLeast(a.Since) {
			continue
		}
		offered := a.Modern || level == Compatible
		if a.Kind == HostKeys {
			offered = slices.Contains(hostKeyTypes, a.KeyType)
		}
		if offered || slices.Contains(require, a.Name) {
			out[a.Kind] = append(out[a.Kind], a.Name)
		}
	}
	return out
}
