package sshdconfig

import (
	"fmt"
	"path"
	"sort"
	"strings"
)

// maxIncludeDepth is sshd's SERVCONF_MAX_DEPTH: the main file is depth 0 and
// a file at depth 17 is fatal (verified: a chain of 16 includes loads, 17 fails).
const maxIncludeDepth = 16

// sshDir is where sshd resolves relative Include patterns (SSHDIR).
const sshDir = "/etc/ssh"

// include reads every file matched by the arguments of one Include directive.
func (l *loader) include(v Value, depth, ctx int) error {
	for _, arg := range v.Args {
		if arg == "" {
			return fmt.Errorf("%s line %d: %w", v.File, v.Line, ErrEmptyInclude)
		}
		pattern := includePattern(arg)
		matches, err := l.fsys.Glob(pattern)
		if err != nil {
			return fmt.Errorf("%s line %d: include %q: %w", v.File, v.Line, arg, err)
		}
		for _, name := range globResults(pattern, matches) {
			if err := l.file(name, depth+1, ctx); err != nil {
				return err
			}
		}
	}
	return nil
}

// includePattern makes an Include argument absolute the way sshd does:
// anything not starting with '/' or '~' is under /etc/ssh. sshd hands '~'
// paths to glob(3) without GLOB_TILDE, i.e. relative to its working
// directory, which is "/" for a daemon.
func includePattern(arg string) string {
	switch {
	case strings.HasPrefix(arg, "/"):
		return path.Clean(arg)
	case strings.HasPrefix(arg, "~"):
		return path.Clean("/" + arg)
	default:
		return path.Clean(sshDir + "/" + arg)
	}
}

// globResults puts an FS's matches in glob(3) order and drops dot-files that
// the pattern did not name with a leading '.', because sshd's glob(3) has no
// GLOB_PERIOD: "sshd_config.d/*.conf" never reads ".old.conf" (verified),
// while Go's path.Match and filepath.Glob would.
func globResults(pattern string, matches []string) []string {
	pat := strings.Split(pattern, "/")
	out := make([]string, 0, len(matches))
	for _, m := range matches {
		if !hiddenMismatch(pat, strings.Split(path.Clean(m), "/")) {
			out = append(out, path.Clean(m))
		}
	}
	sort.Strings(out)
	return out
}

func hiddenMismatch(pat, name []string) bool {
	if len(pat) != len(name) {
		return false
	}
	for i := range name {
		if strings.HasPrefix(name[i], ".") && !strings.HasPrefix(pat[i], ".") {
			return true
		}
	}
	return false
}
