package sshcrypto

import (
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// The regular expressions ParseBanner and ParsePackage stand for.
var (
	bannerOracle  = regexp.MustCompile(`OpenSSH_(\d+)\.(\d+)`)
	packageOracle = regexp.MustCompile(`^(?:\d+:)?(\d+)\.(\d+)p`)
)

func oracle(re *regexp.Regexp, s string) (Version, bool) {
	m := re.FindStringSubmatch(s)
	if m == nil {
		return Version{}, false
	}
	maj, _ := strconv.Atoi(m[1])
	min, _ := strconv.Atoi(m[2])
	return Version{maj, min}, true
}

func checkOracles(t *testing.T, s string) {
	t.Helper()
	if v, ok := ParseBanner(s); ok != (bannerOracle.MatchString(s)) || ok && v != must(oracle(bannerOracle, s)) {
		w, wok := oracle(bannerOracle, s)
		t.Errorf("ParseBanner(%q) = %v %v, regexp says %v %v", s, v, ok, w, wok)
	}
	if v, ok := ParsePackage(s); ok != (packageOracle.MatchString(s)) || ok && v != must(oracle(packageOracle, s)) {
		w, wok := oracle(packageOracle, s)
		t.Errorf("ParsePackage(%q) = %v %v, regexp says %v %v", s, v, ok, w, wok)
	}
}

func must(v Version, _ bool) Version { return v }

// TestParseOracles: both parsers agree with their regular expressions on
// every string of up to five bytes over the bytes that matter, and on
// real and awkward versions.
func TestParseOracles(t *testing.T) {
	const alphabet = "1:.p_xO"
	var grow func(prefix string, n int)
	grow = func(prefix string, n int) {
		checkOracles(t, prefix)
		checkOracles(t, "OpenSSH_"+prefix)
		if n == 0 {
			return
		}
		for i := 0; i < len(alphabet); i++ {
			grow(prefix+alphabet[i:i+1], n-1)
		}
	}
	grow("", 5)
	for _, s := range []string{"OpenSSH_OpenSSH_9.2", "OpenSSH_x OpenSSH_9.2p1", "OpenSSH_9.", "OpenSSH_.2",
		"1:9.2p1-2+deb12u3", "9.9p1-2", ":9.2p1", "1::9.2p", "1:2:9.2p", "99999999999999999999.1p1",
		"1:9.99999999999999999999p", "OpenSSH_99999999999999999999.2", "OpenSSH_9.2\nOpenSSH_8.1", "１.２p"} {
		checkOracles(t, s)
	}
}

func FuzzParseOracles(f *testing.F) {
	for _, s := range []string{"OpenSSH_9.2p1 Debian", "1:9.2p1-2", "9.9p1-2", "OpenSSH_OpenSSH_1.2"} {
		f.Add(s)
	}
	f.Fuzz(checkOracles)
}

func TestParse(t *testing.T) {
	for in, want := range map[string]Version{
		"OpenSSH_9.2, OpenSSL 3.0.20 7 Apr 2026":                       {9, 2},
		"OpenSSH_10.0p2 Debian-7+deb13u4, OpenSSL 3.5.9 29 Sep 2026":   {10, 0},
		"unknown option -- V\nOpenSSH_8.4p1 Debian-5+deb11u3, OpenSSL": {8, 4},
	} {
		if got, ok := ParseBanner(in); !ok || got != want {
			t.Errorf("ParseBanner(%q) = %v %v, want %v", in, got, ok, want)
		}
	}
	for in, want := range map[string]Version{"1:9.2p1-2+deb12u3": {9, 2}, "9.9p1-2": {9, 9}, "1:10.0p1-7": {10, 0}} {
		if got, ok := ParsePackage(in); !ok || got != want {
			t.Errorf("ParsePackage(%q) = %v %v, want %v", in, got, ok, want)
		}
	}
	for _, bad := range []string{"1.0", "", "9.2"} {
		if _, ok := ParsePackage(bad); ok {
			t.Errorf("ParsePackage(%q) accepted", bad)
		}
	}
}

func TestChoose(t *testing.T) {
	ed := []string{"ed25519"}
	for _, c := range []struct {
		name          string
		level         string
		v             Version
		keys, require []string
		kind          string
		has, hasNot   []string
	}{
		{"9.2 has no ML-KEM", Modern, Version{9, 2}, ed, nil, Kex,
			[]string{"sntrup761x25519-sha512@openssh.com", "curve25519-sha256"}, []string{"mlkem768x25519-sha256", "sntrup761x25519-sha512", "ecdh-sha2-nistp256"}},
		{"10.0 has ML-KEM first", Modern, Version{10, 0}, ed, nil, Kex,
			[]string{"mlkem768x25519-sha256", "sntrup761x25519-sha512@openssh.com"}, []string{"sntrup761x25519-sha512", "ecdh-sha2-nistp256", "diffie-hellman-group14-sha256"}},
		{"8.4 has no sntrup761", Modern, Version{8, 4}, ed, nil, Kex,
			[]string{"curve25519-sha256"}, []string{"sntrup761x25519-sha512@openssh.com"}},
		{"compatible adds NIST ECDH", Compatible, Version{9, 2}, ed, nil, Kex,
			[]string{"ecdh-sha2-nistp256", "diffie-hellman-group14-sha256"}, nil},
		{"modern MACs are etm only", Modern, Version{9, 2}, ed, nil, MACs,
			[]string{"hmac-sha2-512-etm@openssh.com"}, []string{"hmac-sha2-256", "umac-128@openssh.com", "umac-128-etm@openssh.com"}},
		{"host keys follow host_key_types", Modern, Version{9, 2}, ed, nil, HostKeys,
			[]string{"ssh-ed25519"}, []string{"rsa-sha2-512", "ecdsa-sha2-nistp256"}},
		{"rsa when asked", Modern, Version{9, 2}, []string{"ed25519", "rsa"}, nil, HostKeys,
			[]string{"ssh-ed25519", "rsa-sha2-512", "rsa-sha2-256"}, []string{"ssh-rsa", "ecdsa-sha2-nistp256"}},
		{"required names are added", Modern, Version{9, 2}, ed, []string{"ecdh-sha2-nistp256", "hmac-sha2-256"}, Kex,
			[]string{"ecdh-sha2-nistp256"}, []string{"ecdh-sha2-nistp384"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := Choose(c.level, c.v, c.keys, c.require)[c.kind]
			for _, a := range c.has {
				if !slices.Contains(got, a) {
					t.Errorf("%s lacks %s: %s", c.kind, a, strings.Join(got, ","))
				}
			}
			for _, a := range c.hasNot {
				if slices.Contains(got, a) {
					t.Errorf("%s has %s: %s", c.kind, a, strings.Join(got, ","))
				}
			}
		})
	}
	if Choose(Off, Version{10, 0}, ed, nil) != nil {
		t.Error("off chose algorithms")
	}
	// Nothing SHA-1, CBC, DSA or 64-bit tag is in the table at all.
	for _, a := range Table {
		for _, bad := range []string{"sha1", "cbc", "dss", "umac-64", "ssh-rsa"} {
			if strings.Contains(a.Name, bad) {
				t.Errorf("table holds %s", a.Name)
			}
		}
	}
}

// ssgCIS are the lists SCAP Security Guide 0.1.82's CIS profiles for Debian
// 12 and 13 accept (ssg-debian1[23]-ds.xml: the cis_debian13 values of
// sshd_strong_kex and sshd_strong_macs, the regular expression of
// sshd_use_strong_ciphers); debian12's KEX list is this one without ML-KEM.
var ssgCIS = map[string][]string{
	Kex: {"mlkem768x25519-sha256", "sntrup761x25519-sha512@openssh.com", "curve25519-sha256", "curve25519-sha256@libssh.org",
		"ecdh-sha2-nistp256", "ecdh-sha2-nistp384", "ecdh-sha2-nistp521", "diffie-hellman-group-exchange-sha256",
		"diffie-hellman-group16-sha512", "diffie-hellman-group18-sha512", "diffie-hellman-group14-sha256"},
	Ciphers: {"aes128-ctr", "aes192-ctr", "aes256-ctr", "chacha20-poly1305@openssh.com", "aes256-gcm@openssh.com", "aes128-gcm@openssh.com"},
	MACs:    {"hmac-sha2-512-etm@openssh.com", "hmac-sha2-256-etm@openssh.com", "hmac-sha2-512", "hmac-sha2-256"},
}

// TestModernIsOnSSGsCISLists: the scanner fails sshd_use_strong_* for any
// name outside its list, so modern offers none, on any OpenSSH version
// (OpenSSH 9.2 has no ML-KEM, which Debian 12's list lacks too).
func TestModernIsOnSSGsCISLists(t *testing.T) {
	for _, v := range []Version{{8, 4}, {9, 2}, {9, 9}, {10, 0}} {
		for kind, allowed := range ssgCIS {
			got := Choose(Modern, v, []string{"ed25519"}, nil)[kind]
			if len(got) == 0 {
				t.Errorf("%s on %s: empty", kind, v)
			}
			for _, a := range got {
				if !slices.Contains(allowed, a) {
					t.Errorf("%s on %s offers %s, which SSG's CIS list lacks", kind, v, a)
				}
			}
		}
	}
}
