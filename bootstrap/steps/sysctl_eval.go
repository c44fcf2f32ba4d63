package steps

import (
	"path"
	"sort"
	"strconv"
	"strings"
)

// This file evaluates sysctl.d configuration the way systemd-sysctl does at
// boot, without touching any file: the kernel step reads the files (thin
// IO in kernel_sysctl.go) and asks this code what value wins and where it
// comes from. Rules, from systemd's sysctl.c and sysctl.d(5):
//   - files from /etc/sysctl.d, /run/sysctl.d, /usr/local/lib/sysctl.d and
//     /usr/lib/sysctl.d (and /lib/sysctl.d) are merged by file name: the
//     first directory in that order holding a name wins it (/etc masks the
//     package's file of the same name), a link to /dev/null masks the name;
//   - the files are read sorted by name, later files and later lines win;
//   - "key = value"; '#' and ';' start comments; a '-' before the key means
//     "ignore a failure to set it"; "-key" without '=' excludes the key from
//     every glob assignment (systemd >= 254);
//   - a key with '*', '?' or '[' is a glob, matched per path component
//     against the keys that exist; an explicit key always beats a glob,
//     whatever their order; of several matching globs the last one wins;
//   - "net/ipv4/conf/eth0.100/rp_filter" (slash form) and
//     "net.ipv4.conf.eth0/100.rp_filter" name the same key.

// sysctlFile is one configuration file as read.
type sysctlFile struct {
	Name string // file name, the merge key ("50-default.conf")
	Path string // where it was read ("/usr/lib/sysctl.d/50-default.conf")
	Text string
	// Masked: a link to /dev/null; it claims the name and sets nothing.
	Masked bool
}

// sysctlLine is one assignment or exclusion of a file.
type sysctlLine struct {
	Path  string
	Line  int
	Key   string // dot form
	Value string // inner whitespace folded to one space
	// IgnoreFailure: the key had a '-' prefix.
	IgnoreFailure bool
	Glob          bool
	// Exclude: "-key" with no value: the key is kept out of globs.
	Exclude bool
}

// Origin is "path:line", for reports.
func (l sysctlLine) Origin() string {
	if l.Path == "" {
		return ""
	}
	return l.Path + ":" + strconv.Itoa(l.Line)
}

// sysctlKey turns a key into dot form: when its first separator is a slash,
// slashes and dots swap (dots then belong to a name such as eth0.100).
func sysctlKey(k string) string {
	i := strings.IndexAny(k, "./")
	if i < 0 || k[i] == '.' {
		return k
	}
	return swapDotsSlashes(k)
}

func swapDotsSlashes(k string) string {
	return strings.Map(func(r rune) rune {
		switch r {
		case '.':
			return '/'
		case '/':
			return '.'
		}
		return r
	}, k)
}

// parseSysctl returns the assignments and exclusions of one file in order.
// Lines systemd-sysctl would ignore (no '=', empty key) are left out.
func parseSysctl(filePath, text string) []sysctlLine {
	var out []sysctlLine
	for i, raw := range strings.Split(text, "\n") {
		s := strings.TrimSpace(raw)
		if s == "" || s[0] == '#' || s[0] == ';' {
			continue
		}
		l := sysctlLine{Path: filePath, Line: i + 1}
		key, value, ok := strings.Cut(s, "=")
		key = strings.TrimSpace(key)
		if strings.HasPrefix(key, "-") {
			l.IgnoreFailure = true
			key = strings.TrimSpace(key[1:])
		}
		if !ok && !l.IgnoreFailure {
			continue // "not an assignment": systemd warns and skips it
		}
		if key == "" {
			continue
		}
		l.Key = sysctlKey(key)
		l.Glob = strings.ContainsAny(key, "*?[")
		if ok {
			l.Value = strings.Join(strings.Fields(value), " ")
		} else {
			l.Exclude = true
		}
		out = append(out, l)
	}
	return out
}

// mergeSysctlFiles orders the files as systemd-sysctl reads them. dirs holds
// each directory's files, directories in priority order (/etc first): a
// name is taken from the first directory that has it. last, when not nil,
// is read after all of them (procps' `sysctl --system` reads
// /etc/sysctl.conf last; systemd reads it only through a link such as
// Debian's /etc/sysctl.d/99-sysctl.conf).
func mergeSysctlFiles(dirs [][]sysctlFile, last *sysctlFile) []sysctlFile {
	byName := map[string]sysctlFile{}
	for _, files := range dirs {
		for _, f := range files {
			if _, taken := byName[f.Name]; !taken {
				byName[f.Name] = f
			}
		}
	}
	names := make([]string, 0, len(byName))
	for n := range byName {
		names = append(names, n)
	}
	sort.Strings(names)
	var out []sysctlFile
	for _, n := range names {
		if f := byName[n]; !f.Masked {
			out = append(out, f)
		}
	}
	if last != nil {
		out = append(out, *last)
	}
	return out
}

// sysctlConfig is the merged configuration: every line of the files read,
// in reading order.
type sysctlConfig struct{ Lines []sysctlLine }

func newSysctlConfig(files []sysctlFile) sysctlConfig {
	var c sysctlConfig
	for _, f := range files {
		c.Lines = append(c.Lines, parseSysctl(f.Path, f.Text)...)
	}
	return c
}

// Effective is the line that sets key at boot: the last explicit
// assignment, else (unless an exclusion names the key) the last glob that
// matches it. ok is false when nothing sets it (the kernel's value stays).
func (c sysctlConfig) Effective(key string) (sysctlLine, bool) {
	key = sysctlKey(key)
	var explicit, glob *sysctlLine
	excluded := false
	for i := range c.Lines {
		l := &c.Lines[i]
		switch {
		case l.Exclude:
			if !l.Glob && l.Key == key {
				excluded = true
			}
		case l.Glob:
			if sysctlGlobMatch(l.Key, key) {
				glob = l
			}
		case l.Key == key:
			explicit = l
		}
	}
	switch {
	case explicit != nil:
		return *explicit, true
	case glob != nil && !excluded:
		return *glob, true
	}
	return sysctlLine{}, false
}

// sysctlGlobMatch matches a glob key against a key per path component, as
// systemd expands globs against /proc/sys.
func sysctlGlobMatch(pattern, key string) bool {
	ok, err := path.Match(swapDotsSlashes(pattern), swapDotsSlashes(key))
	return err == nil && ok
}

// sysctlConflicts lists the explicit assignments of key to a value other
// than want in files, each file on its own: what a scanner reading every
// file (OpenSCAP's SSG rules do, masked or not) reports. Lines with the '-'
// prefix are included: they set the value too.
func sysctlConflicts(files []sysctlFile, key, want string) []sysctlLine {
	key = sysctlKey(key)
	var out []sysctlLine
	for _, f := range files {
		for _, l := range parseSysctl(f.Path, f.Text) {
			if !l.Exclude && !l.Glob && l.Key == key && l.Value != want {
				out = append(out, l)
			}
		}
	}
	return out
}
