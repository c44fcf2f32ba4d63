package steps

import (
	"path"
	"sort"
	"strconv"
	"strings"

	"github.com/hardbake/hardbake/bootstrap/root"
)

// systemd-tmpfiles sets the login records' modes at every boot (Debian 12's
// var.conf: "f /var/log/wtmp 0664 root utmp -"), so a chmod alone would be
// undone by the image's first boot. Our own tmpfiles.d file repeats those
// lines with the narrower mode; tmpfiles reads the files sorted by name and
// the first line for a path wins, so ours is named to sort first.

// LoginRecordsTmpfiles is our tmpfiles.d file for the login records.
const LoginRecordsTmpfiles = "/etc/tmpfiles.d/00-hardbake-log.conf"

var tmpfilesDirs = []string{"/etc/tmpfiles.d", "/run/tmpfiles.d", "/usr/local/lib/tmpfiles.d", "/usr/lib/tmpfiles.d", "/lib/tmpfiles.d"}

// loginRecord reports whether p is one of the login records (not rotated
// copies: no program writes those).
func loginRecord(p string) bool {
	switch p {
	case "/var/log/wtmp", "/var/log/btmp", "/var/log/lastlog":
		return true
	}
	return false
}

// tmpfilesConfs returns the tmpfiles.d files in the order systemd-tmpfiles
// reads them: by file name, a name in an earlier directory hiding the same
// name in a later one.
func tmpfilesConfs(r *root.Root) []confFile {
	seen := map[string]string{}
	for _, d := range tmpfilesDirs {
		entries, _ := r.ReadDir(d)
		for _, e := range entries {
			if strings.HasSuffix(e.Name(), ".conf") && seen[e.Name()] == "" {
				seen[e.Name()] = path.Join(d, e.Name())
			}
		}
	}
	names := make([]string, 0, len(seen))
	for n := range seen {
		names = append(names, n)
	}
	sort.Strings(names)
	var out []confFile
	for _, n := range names {
		if data, err := r.ReadFile(seen[n]); err == nil {
			out = append(out, confFile{seen[n], string(data)})
		}
	}
	return out
}

// tmpfilesLine is the first line of the configuration for a path: the one
// systemd-tmpfiles applies.
type tmpfilesLine struct {
	From   string
	Fields []string // type, path, mode, user, group, age, argument
}

// tmpfilesFirstLines returns, for each login record, the line that wins,
// skipping our own file.
func tmpfilesFirstLines(confs []confFile, skip string) map[string]tmpfilesLine {
	out := map[string]tmpfilesLine{}
	for _, c := range confs {
		if c.Path == skip {
			continue
		}
		for _, l := range strings.Split(c.Text, "\n") {
			f := strings.Fields(l)
			if len(f) < 2 || strings.HasPrefix(f[0], "#") || !loginRecord(f[1]) {
				continue
			}
			if _, dup := out[f[1]]; !dup {
				out[f[1]] = tmpfilesLine{c.Path, f}
			}
		}
	}
	return out
}

// loginRecordsTmpfilesText is our file: each vendor line that creates or
// adjusts a login record with a mode looser than 0640, with mode & 0640.
// "" when no line needs it (Debian 13 has none: the records live in
// wtmpdb there).
func loginRecordsTmpfilesText(first map[string]tmpfilesLine) string {
	var lines []string
	for _, p := range []string{"/var/log/wtmp", "/var/log/btmp", "/var/log/lastlog"} {
		l, ok := first[p]
		if !ok || len(l.Fields) < 3 || !strings.ContainsAny(l.Fields[0][:1], "fFz") {
			continue
		}
		m, err := strconv.ParseUint(l.Fields[2], 8, 32)
		if err != nil || m&^0o640 == 0 {
			continue
		}
		f := append([]string{}, l.Fields...)
		f[2] = "0" + strconv.FormatUint(m&0o640, 8)
		lines = append(lines, strings.Join(f, " "))
	}
	if len(lines) == 0 {
		return ""
	}
	return "# Written by hardbake (logging.private_login_records): the login records are\n" +
		"# readable by root and the utmp group only, and written by root (login, sshd).\n" +
		"# systemd-tmpfiles applies the first line for a path: this file sorts first.\n" +
		strings.Join(lines, "\n") + "\n"
}
