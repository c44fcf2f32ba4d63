package names

import (
	"regexp"
	"strings"
	"testing"
)

// oracles are the regular expressions the functions replace, as their
// callers documented them before.
var oracles = []struct {
	name string
	fn   func(string) bool
	re   *regexp.Regexp
}{
	{"DebianUser", DebianUser, regexp.MustCompile(`^[a-z][-a-z0-9_]*$`)},
	{"Shadow", Shadow, regexp.MustCompile(`^[a-z_][a-z0-9_-]*[$]?$`)},
	{"Package", Package, regexp.MustCompile(`^[a-z0-9][a-z0-9+._-]*$`)},
	{"ClockTime", ClockTime, regexp.MustCompile(`^([01][0-9]|2[0-3]):[0-5][0-9]$`)},
	{"AptPart", AptPart, regexp.MustCompile(`^[A-Za-z0-9_.-]+$`)},
	{"HostLabel", HostLabel, regexp.MustCompile(`^[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?$`)},
}

// alphabet holds each class's edges and the bytes just outside them.
const alphabet = "az`{AZ@[09/:_-.+$ \n\x00\xc3é5634"

// TestOracles compares each function with its regular expression on
// every string of up to three bytes over alphabet, and on longer cases.
func TestOracles(t *testing.T) {
	var inputs []string
	var grow func(prefix string, n int)
	grow = func(prefix string, n int) {
		inputs = append(inputs, prefix)
		if n == 0 {
			return
		}
		for i := 0; i < len(alphabet); i++ {
			grow(prefix+alphabet[i:i+1], n-1)
		}
	}
	grow("", 3)
	inputs = append(inputs, "alice", "al-ice_2", "_svc", "host$", "host$$", "$", "a$b", "Alice", "2fa", "-x",
		"00:00", "09:59", "19:60", "20:00", "23:59", "24:00", "2:00", "02:0", "02:000", "0a:00", "12-30", "١٢:٣٠",
		"libc6", "g++", "libstdc++6", "python3.11", "x-", "50unattended-upgrades", "99hardbake.conf", "a b",
		"ééééé", "alice\n", "\nalice", "ＡＢ", "00:00\n")
	for _, o := range oracles {
		for _, s := range inputs {
			if got, want := o.fn(s), o.re.MatchString(s); got != want {
				t.Errorf("%s(%q) = %v, regexp %s says %v", o.name, s, got, o.re, want)
			}
		}
	}
}

// TestHostLabel: the label check accepts exactly what the RFC 1123 pattern
// ^[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?$ accepts.
func TestHostLabel(t *testing.T) {
	re := regexp.MustCompile(`^[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?$`)
	cases := []string{"", "a", "A", "0", "-", "a-", "-a", "a-b", "web-1", "a--b", "a_b", "a.b", "ä", "a b",
		strings.Repeat("a", 62), strings.Repeat("a", 63), strings.Repeat("a", 64), "a" + strings.Repeat("-", 61) + "b", "a" + strings.Repeat("-", 62) + "b"}
	for c := range 256 {
		cases = append(cases, string(rune(c)), "x"+string([]byte{byte(c)})+"y")
	}
	for _, s := range cases {
		if got, want := HostLabel(s), re.MatchString(s); got != want {
			t.Errorf("HostLabel(%q) = %v, want %v", s, got, want)
		}
	}
}

func FuzzOracles(f *testing.F) {
	for _, s := range []string{"alice", "23:59", "g++", "x$", "99hardbake.conf"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, o := range oracles {
			if got, want := o.fn(s), o.re.MatchString(s); got != want {
				t.Errorf("%s(%q) = %v, regexp %s says %v", o.name, s, got, o.re, want)
			}
		}
	})
}

func BenchmarkShadow(b *testing.B) {
	for b.Loop() {
		Shadow("alice_admin-2$")
	}
}
