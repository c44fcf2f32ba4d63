package host

import (
	"regexp"
	"strings"
	"testing"
)

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
		if got, want := hostLabel(s), re.MatchString(s); got != want {
			t.Errorf("hostLabel(%q) = %v, want %v", s, got, want)
		}
	}
}
