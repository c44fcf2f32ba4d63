package steps

import (
	"path"
	"sort"
	"strings"
)

// Core dumps off: pam_limits gives every session a hard limit of 0, and
// systemd-coredump (where it is installed, or later) keeps nothing.
const (
	CoreLimits       = "/etc/security/limits.d/99-zz-hardbake-coredump.conf"
	CoredumpDropIn   = "/etc/systemd/coredump.conf.d/99-zz-hardbake.conf"
	limitsDivertName = ".hardbake-disabled"
)

// coreLimitsText: pam_limits applies "*" to everyone but root, so root has
// its own line.
const coreLimitsText = `# Written by hardbake (kernel step): no core dumps (profile kernel.core_dumps).
# A dump can hold passwords and keys. "*" does not apply to root.
*    hard    core    0
root hard    core    0
`

// coredumpDropInText: systemd-coredump stores nothing and does not even
// read the crashed process for a backtrace.
const coredumpDropInText = `# Written by hardbake (kernel step): no core dumps (profile kernel.core_dumps).
[Coredump]
Storage=none
ProcessSizeMax=0
`

// coreLimit is one core line of a limits file that applies to everyone or
// to root.
type coreLimit struct {
	Path, Domain, Type, Value string
	Line                      int
}

// coreLimitLines lists the hard core limits ("hard" or "-") of "*" and root
// in a limits.conf-format file.
func coreLimitLines(filePath, text string) []coreLimit {
	var out []coreLimit
	for i, line := range strings.Split(text, "\n") {
		f := strings.Fields(line)
		if len(f) < 4 || strings.HasPrefix(f[0], "#") || f[2] != "core" {
			continue
		}
		if (f[0] == "*" || f[0] == "root") && (f[1] == "hard" || f[1] == "-") {
			out = append(out, coreLimit{Path: filePath, Domain: f[0], Type: f[1], Value: f[3], Line: i + 1})
		}
	}
	return out
}

// effectiveCoreLimits is the hard core limit pam_limits gives "*" and root:
// it reads limits.conf, then limits.d/*.conf sorted by name, and for the
// same domain a later line replaces an earlier one. files are in that
// order.
func effectiveCoreLimits(files []sysctlFile) map[string]coreLimit {
	out := map[string]coreLimit{}
	for _, f := range files {
		for _, l := range coreLimitLines(f.Path, f.Text) {
			out[l.Domain] = l
		}
	}
	return out
}

// readLimits reads limits.conf and limits.d/*.conf in pam_limits' order.
func readLimits(env *Env) ([]sysctlFile, error) {
	var out []sysctlFile
	text, err := readText(env.Root, "/etc/security/limits.conf")
	if err != nil {
		return nil, err
	}
	out = append(out, sysctlFile{Name: "limits.conf", Path: "/etc/security/limits.conf", Text: text})
	matches, _ := env.Root.Glob("/etc/security/limits.d/*.conf")
	sort.Strings(matches)
	for _, p := range matches {
		text, err := readText(env.Root, p)
		if err != nil {
			return nil, err
		}
		out = append(out, sysctlFile{Name: path.Base(p), Path: p, Text: text})
	}
	return out, nil
}

// dpkgDiversions parses /var/lib/dpkg/diversions (three lines per entry:
// the file, where it went, the package or ":" for a local one): the local
// diversions, file -> where it went.
func dpkgDiversions(text string) map[string]string {
	out := map[string]string{}
	lines := strings.Split(strings.TrimRight(text, "\n"), "\n")
	for i := 0; i+2 < len(lines); i += 3 {
		if lines[i+2] == ":" {
			out[lines[i]] = lines[i+1]
		}
	}
	return out
}
