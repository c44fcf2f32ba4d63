package sshdconfig

import (
	"sort"
	"strings"
)

// DisabledMarker prefixes a line hardbake commented out. It is distinct from a
// plain '#' so that RestoreDisabled brings back exactly our lines and never a
// comment the owner wrote.
const DisabledMarker = "#hardbake-disabled# "

// DisableLines comments out the given 1-based line numbers as
// "#hardbake-disabled# <original line>". Line numbers stay valid (no line is
// added or removed), numbers out of range are ignored, and a line already
// disabled is left alone, so applying it twice is harmless.
func DisableLines(text string, lines []int) string {
	want := map[int]bool{}
	for _, n := range lines {
		want[n] = true
	}
	parts := splitKeepEOL(text)
	for i, p := range parts {
		if want[i+1] && !strings.HasPrefix(p, strings.TrimSpace(DisabledMarker)) {
			parts[i] = DisabledMarker + p
		}
	}
	return strings.Join(parts, "")
}

// RestoreDisabled reverses every DisableLines marker in text.
func RestoreDisabled(text string) string {
	parts := splitKeepEOL(text)
	marker := strings.TrimSpace(DisabledMarker)
	for i, p := range parts {
		if rest, ok := strings.CutPrefix(p, marker); ok {
			// The space is ours; tolerate an editor having trimmed it.
			parts[i] = strings.TrimPrefix(rest, " ")
		}
	}
	return strings.Join(parts, "")
}

// DisabledLines returns the 1-based numbers of the lines DisableLines marked.
func DisabledLines(text string) []int {
	var out []int
	for i, p := range splitKeepEOL(text) {
		if strings.HasPrefix(p, strings.TrimSpace(DisabledMarker)) {
			out = append(out, i+1)
		}
	}
	sort.Ints(out)
	return out
}
