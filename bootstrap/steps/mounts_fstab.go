package steps

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// /etc/fstab as libmount and systemd-fstab-generator read it: one mount per
// line, fields separated by blanks (spec, mount point, type, options, dump,
// pass; the last two optional), whole-line comments starting with "#",
// blanks inside a field written as octal escapes (\040). Only the options
// field of a line we manage is ever rewritten, in place: every other byte of
// the file stays as it was.

// fstabEntry is one mount line of fstab.
type fstabEntry struct {
	Line    int // 1-based
	Spec    string
	Where   string // mount point, unescaped, without a trailing slash
	Type    string
	Options []string
	// optStart, optEnd are the byte offsets of the options field in the line.
	optStart, optEnd int
}

// fstabField is one blank-separated field of a line and its byte span.
type fstabField struct {
	text       string
	start, end int
}

func fstabFields(line string) []fstabField {
	var out []fstabField
	for i := 0; i < len(line); {
		if line[i] == ' ' || line[i] == '\t' {
			i++
			continue
		}
		j := i
		for j < len(line) && line[j] != ' ' && line[j] != '\t' {
			j++
		}
		out = append(out, fstabField{line[i:j], i, j})
		i = j
	}
	return out
}

// unescapeFstab decodes the octal escapes fstab(5) uses for blanks and
// backslashes (\040, \011, \134).
func unescapeFstab(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+4 <= len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// cleanMountPoint is where as systemd compares mount points: no trailing
// slash (except for "/"), no doubled slashes.
func cleanMountPoint(where string) string {
	for strings.Contains(where, "//") {
		where = strings.ReplaceAll(where, "//", "/")
	}
	if len(where) > 1 {
		where = strings.TrimRight(where, "/")
	}
	return where
}

// parseFstab returns the mount lines of text; lines that are not (fewer
// than the four fields libmount needs) are skipped, as libmount skips them.
func parseFstab(text string) []fstabEntry {
	var out []fstabEntry
	for i, l := range strings.Split(text, "\n") {
		f := fstabFields(l)
		if len(f) < 4 || strings.HasPrefix(f[0].text, "#") {
			continue
		}
		out = append(out, fstabEntry{
			Line: i + 1, Spec: unescapeFstab(f[0].text), Where: cleanMountPoint(unescapeFstab(f[1].text)),
			Type: f[2].text, Options: strings.Split(f[3].text, ","),
			optStart: f[3].start, optEnd: f[3].end,
		})
	}
	return out
}

// fstabMount is what hardbake wants of one mount point.
type fstabMount struct {
	Where   string
	Options []string // required, e.g. nodev nosuid noexec
	Size    string   // tmpfs size= ("" leaves it)
	// Base are the options of a tmpfs line hardbake adds, before Options.
	Base []string
}

// mountBlockPrefix marks a line hardbake added: the comment above it.
const mountBlockPrefix = "# hardbake mounts: "

// opposite is the option that undoes each restricting option.
var opposite = map[string]string{"nodev": "dev", "nosuid": "suid", "noexec": "exec"}

// withOptions returns opts with the required options in force: their
// opposites dropped, the missing ones appended (mount applies options left
// to right, so nothing later undoes them), and size= replaced when size is
// set. ok reports whether anything changed.
func withOptions(opts []string, m fstabMount) ([]string, bool) {
	var out []string
	for _, o := range opts {
		keep := true
		for _, r := range m.Options {
			if o == opposite[r] {
				keep = false
			}
		}
		if m.Size != "" && strings.HasPrefix(o, "size=") {
			keep = false
		}
		if keep {
			out = append(out, o)
		}
	}
	for _, r := range m.Options {
		if !slices.Contains(out, r) {
			out = append(out, r)
		}
	}
	if m.Size != "" {
		out = append(out, "size="+m.Size)
	}
	return out, !slices.Equal(out, opts) && !sameSet(out, opts)
}

func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for _, x := range a {
		if !slices.Contains(b, x) {
			return false
		}
	}
	return true
}

// fstabLine is the tmpfs line hardbake adds for m.
func fstabLine(m fstabMount) string {
	opts := append(append([]string{}, m.Base...), m.Options...)
	if m.Size != "" {
		opts = append(opts, "size="+m.Size)
	}
	return fmt.Sprintf("tmpfs\t%s\ttmpfs\t%s\t0\t0", m.Where, strings.Join(opts, ","))
}

// fstabWith returns text with every mount in want configured: the options
// of an existing line for its mount point completed in place (the admin's
// file system, device and other options kept), or a tmpfs line appended
// under a marker comment. Mount points in drop lose a line hardbake added
// (with its marker); a line of the admin's is never removed. lines maps the
// 1-based line numbers hardbake wrote to their mount points.
func fstabWith(text string, want []fstabMount, drop []string) (out string, lines map[int]string) {
	ls := strings.Split(text, "\n")
	entries := parseFstab(text)
	lines = map[int]string{}
	var add []fstabMount
	for _, m := range want {
		found := false
		for _, e := range entries {
			if e.Where != m.Where {
				continue
			}
			found = true
			if opts, changed := withOptions(e.Options, m); changed {
				l := ls[e.Line-1]
				ls[e.Line-1] = l[:e.optStart] + strings.Join(opts, ",") + l[e.optEnd:]
			}
		}
		if !found {
			add = append(add, m)
		}
	}
	// Drop our own lines of mount points no longer wanted.
	var kept []string
	for i := 0; i < len(ls); i++ {
		if w, ok := strings.CutPrefix(ls[i], mountBlockPrefix); ok && slices.Contains(drop, strings.TrimSpace(w)) && i+1 < len(ls) {
			if f := fstabFields(ls[i+1]); len(f) >= 2 && cleanMountPoint(unescapeFstab(f[1].text)) == strings.TrimSpace(w) {
				i++
				continue
			}
		}
		kept = append(kept, ls[i])
	}
	ls = kept
	if len(add) > 0 {
		// Keep the file ending in one newline.
		if n := len(ls); n > 0 && ls[n-1] == "" {
			ls = ls[:n-1]
		}
		for _, m := range add {
			ls = append(ls, mountBlockPrefix+m.Where, fstabLine(m))
		}
		ls = append(ls, "")
	}
	out = strings.Join(ls, "\n")
	for _, e := range parseFstab(out) {
		for _, m := range want {
			if e.Where == m.Where {
				lines[e.Line] = m.Where
			}
		}
	}
	return out, lines
}

// mountinfoOptions returns the options of the mount at where from
// /proc/self/mountinfo text (per-mount options and the super block's),
// and whether something is mounted there; the last mount on a point wins.
func mountinfoOptions(text, where string) ([]string, bool) {
	var opts []string
	found := false
	for _, l := range strings.Split(text, "\n") {
		f := strings.Fields(l)
		// id parent major:minor root mountpoint options [optional...] - type source superopts
		if len(f) < 6 || cleanMountPoint(unescapeFstab(f[4])) != where {
			continue
		}
		found = true
		opts = strings.Split(f[5], ",")
		if i := slices.Index(f, "-"); i > 0 && i+3 < len(f) {
			opts = append(opts, strings.Split(f[i+3], ",")...)
		}
	}
	return opts, found
}
