package steps

import (
	"path"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/hardbake/hardbake/bootstrap/root"
)

// journald's configuration, read the way systemd's conf-parser reads it:
// the main file (the first of /etc, /run, /usr/local/lib, /usr/lib that has
// systemd/journald.conf), then every journald.conf.d/*.conf drop-in of those
// directories sorted by file name (a name in /etc hides the same name
// further down; a link to /dev/null masks it); the later assignment wins.
// CIS scanners read only the main file in /etc, so our values go there,
// and a drop-in that says otherwise gets our value too.

// JournaldConf is the main journald configuration file CIS scanners read.
const JournaldConf = "/etc/systemd/journald.conf"

// journaldConfDirs are systemd's configuration directories, most important first.
var journaldConfDirs = []string{"/etc", "/run", "/usr/local/lib", "/usr/lib", "/lib"}

// confAssignment is one "Key=value" line of a systemd configuration file.
type confAssignment struct {
	Section, Key, Value string
	Line                int // 1-based
}

// parseSystemdConf returns the assignments of text in order, as systemd's
// config_parse reads them: blanks around keys and values stripped, "#" and
// ";" lines are comments, a trailing backslash continues the line (the
// backslash becomes a space), a line without "=" is ignored.
func parseSystemdConf(text string) []confAssignment {
	var out []confAssignment
	section := ""
	lines := strings.Split(text, "\n")
	for i := 0; i < len(lines); i++ {
		first := i
		l := strings.TrimSpace(strings.TrimSuffix(lines[i], "\r"))
		if strings.HasPrefix(l, "#") || strings.HasPrefix(l, ";") || l == "" {
			continue
		}
		for strings.HasSuffix(l, `\`) && i+1 < len(lines) {
			i++
			l = strings.TrimSuffix(l, `\`) + " " + strings.TrimSpace(lines[i])
		}
		if strings.HasPrefix(l, "[") && strings.HasSuffix(l, "]") {
			section = l[1 : len(l)-1]
			continue
		}
		k, v, ok := strings.Cut(l, "=")
		if !ok {
			continue
		}
		out = append(out, confAssignment{section, strings.TrimSpace(k), strings.TrimSpace(v), first + 1})
	}
	return out
}

// setSystemdConf returns text with "key=value" in section, every other line
// kept: each active assignment of key in section is replaced (systemd keeps
// the last, scanners demand all); else the line goes after the commented-out
// "#key=" line where the file documents the option; else at the end of the
// section; a missing section is appended. No blanks around "=": scanners
// match "^Key=" literally.
func setSystemdConf(text, section, key, value string) string {
	want := key + "=" + value
	lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	if text == "" {
		lines = nil
	}
	replaced := false
	for _, a := range parseSystemdConf(text) {
		if a.Section == section && a.Key == key {
			lines[a.Line-1] = want
			replaced = true
		}
	}
	if replaced {
		return strings.Join(lines, "\n") + "\n"
	}
	cur, last, commented := "", -1, -1
	for i, l := range lines {
		t := strings.TrimSpace(l)
		if strings.HasPrefix(t, "[") && strings.HasSuffix(t, "]") {
			cur = t[1 : len(t)-1]
			continue
		}
		if cur != section {
			continue
		}
		if t != "" {
			last = i
		}
		if c, ok := strings.CutPrefix(t, "#"); ok && commented < 0 {
			if k, _, ok := strings.Cut(strings.TrimSpace(c), "="); ok && strings.TrimSpace(k) == key {
				commented = i
			}
		}
	}
	at := commented
	if at < 0 {
		at = last
	}
	if at < 0 {
		if len(lines) > 0 && strings.TrimSpace(lines[len(lines)-1]) != "" {
			lines = append(lines, "")
		}
		lines = append(lines, "["+section+"]", want)
		return strings.Join(lines, "\n") + "\n"
	}
	lines = slices.Insert(lines, at+1, want)
	return strings.Join(lines, "\n") + "\n"
}

// mainConfFile reports whether p is a main file (".../systemd/NAME.conf"),
// not a drop-in (".../systemd/NAME.conf.d/X.conf").
func mainConfFile(p string) bool { return path.Base(path.Dir(p)) == "systemd" }

// confFile is one file of a systemd configuration, with its text.
type confFile struct {
	Path string
	Text string
}

// systemdConfFiles returns the files systemd reads for name (e.g.
// "systemd/journald.conf") in the order it reads them: the main file, then
// the drop-ins.
func systemdConfFiles(r *root.Root, name string) []confFile {
	var files []confFile
	for _, dir := range journaldConfDirs {
		p := path.Join(dir, name)
		if data, err := r.ReadFile(p); err == nil {
			files = append(files, confFile{p, string(data)})
			break
		}
	}
	seen := map[string]string{} // file name -> path that wins
	for _, dir := range journaldConfDirs {
		d := path.Join(dir, name+".d")
		entries, _ := r.ReadDir(d)
		for _, e := range entries {
			if !strings.HasSuffix(e.Name(), ".conf") || seen[e.Name()] != "" {
				continue
			}
			seen[e.Name()] = path.Join(d, e.Name())
		}
	}
	names := make([]string, 0, len(seen))
	for n := range seen {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		p := seen[n]
		if target, err := r.Resolve(p); err == nil && target == "/dev/null" {
			continue // masked
		}
		data, err := r.ReadFile(p)
		if err != nil {
			continue
		}
		files = append(files, confFile{p, string(data)})
	}
	return files
}

// effectiveSetting is the value systemd uses for a key and the file and line
// that set it ("" when nothing does: the compiled-in default).
type effectiveSetting struct {
	Value, From string
}

// effectiveSystemdConf evaluates files (in systemdConfFiles' order): the
// last assignment of each key of section wins.
func effectiveSystemdConf(files []confFile, section string) map[string]effectiveSetting {
	out := map[string]effectiveSetting{}
	for _, f := range files {
		for _, a := range parseSystemdConf(f.Text) {
			if a.Section == section {
				out[a.Key] = effectiveSetting{a.Value, f.Path + ":" + strconv.Itoa(a.Line)}
			}
		}
	}
	return out
}

// systemdBool reads a boolean as systemd's parse_boolean does; ok is false
// for anything else.
func systemdBool(v string) (b, ok bool) {
	switch strings.ToLower(v) {
	case "1", "yes", "y", "true", "t", "on":
		return true, true
	case "0", "no", "n", "false", "f", "off":
		return false, true
	}
	return false, false
}

// sameSystemdValue compares a wanted value with one systemd reads: booleans
// by meaning ("true" is "yes"), everything else as written.
func sameSystemdValue(want, got string) bool {
	if w, ok := systemdBool(want); ok {
		g, ok := systemdBool(got)
		return ok && g == w
	}
	return want == got
}

// parseSystemdSize reads a size as systemd's parse_size does for journald's
// limits: a whole number with an optional K, M, G, T, P or E (1024-based);
// ok is false for what this does not read (fractions, percentages).
func parseSystemdSize(v string) (uint64, bool) {
	v = strings.TrimSuffix(strings.TrimSpace(v), "B")
	mult := uint64(1)
	if i := strings.IndexAny(v, "KMGTPE"); i >= 0 && i == len(v)-1 {
		mult = 1 << (10 * (1 + strings.IndexByte("KMGTPE", v[i])))
		v = v[:i]
	}
	n, err := strconv.ParseUint(v, 10, 64)
	if err != nil || n > (1<<63)/mult {
		return 0, false
	}
	return n * mult, true
}

// keepFreeTooLarge reports whether journald's SystemKeepFree leaves the
// journal no room on a file system of fsSize bytes: at or above half of it
// (a fixed SystemKeepFree=100G on a 10G disk keeps no journal at all).
func keepFreeTooLarge(keepFree string, fsSize uint64) bool {
	n, ok := parseSystemdSize(keepFree)
	return ok && fsSize > 0 && n >= fsSize/2
}
