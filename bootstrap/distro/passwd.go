package distro

import (
	"path"
	"strconv"
	"strings"
)

// PasswdEntry is one account of /etc/passwd (passwd(5)).
type PasswdEntry struct {
	Name     string
	UID, GID int
	Gecos    string
	Home     string
	Shell    string // as written; empty means /bin/sh
}

// GroupEntry is one group of /etc/group (group(5)).
type GroupEntry struct {
	Name    string
	GID     int
	Members []string // the fourth field split at ','; nil when empty
}

// ParsePasswd reads passwd(5) text into the accounts getpwnam(3) finds
// there (glibc's files source, which sshd, sudo and login use), in file
// order. A line is an entry when glibc reads it as one; tested against
// glibc's getent in a real Debian root (passwd_glibc_test.go):
//   - blanks before the name are skipped; empty lines and comments ('#'
//     first) are no entries;
//   - the uid and gid are decimal numbers that fit uid_t (blanks and a '+'
//     before them allowed, as strtoul(3) reads them); a line without both,
//     or with one that is not such a number, is no entry, and glibc goes on
//     looking, so a later well-formed entry of the same name is the one
//     found;
//   - GECOS, home and shell may be missing (empty); the shell is the rest of
//     the line after the sixth ':';
//   - NIS compat lines ("+", "+name", "-name", "+@netgroup") are no local
//     accounts: nsswitch's compat source merges them with NIS, the files
//     source finds none of them, and no account tool makes such a name;
//   - only the first entry of a name counts.
func ParsePasswd(text string) []PasswdEntry {
	var out []PasswdEntry
	firstEntries(text, 4, 7, func(f []string) bool {
		uid, uidOK := parseID(f[2])
		gid, gidOK := parseID(f[3])
		if !uidOK || !gidOK {
			return false
		}
		out = append(out, PasswdEntry{Name: f[0], UID: uid, GID: gid, Gecos: f[4], Home: f[5], Shell: f[6]})
		return true
	})
	return out
}

// ParseGroup reads group(5) text with ParsePasswd's rules: name, password
// and gid are needed, the member list may be missing; members are split at
// ',', with blanks before a name skipped and empty ones dropped.
func ParseGroup(text string) []GroupEntry {
	var out []GroupEntry
	firstEntries(text, 3, 4, func(f []string) bool {
		gid, ok := parseID(f[2])
		if !ok {
			return false
		}
		g := GroupEntry{Name: f[0], GID: gid}
		for _, m := range strings.Split(f[3], ",") {
			if m = strings.TrimLeft(m, blanks); m != "" {
				g.Members = append(g.Members, m)
			}
		}
		out = append(out, g)
		return true
	})
	return out
}

// LookupUser is name's entry in passwd(5) text, as getpwnam(3) finds it.
func LookupUser(passwd, name string) (PasswdEntry, bool) {
	for _, e := range ParsePasswd(passwd) {
		if e.Name == name {
			return e, true
		}
	}
	return PasswdEntry{}, false
}

// LookupGroup is name's entry in group(5) text, as getgrnam(3) finds it.
func LookupGroup(group, name string) (GroupEntry, bool) {
	for _, g := range ParseGroup(group) {
		if g.Name == name {
			return g, true
		}
	}
	return GroupEntry{}, false
}

// LoginShell reports whether the account's shell gives a session: not
// nologin, false or true (what distributions give daemons), nor sync,
// shutdown or halt (the accounts Debian and Fedora name after the one
// command their "shell" runs before the session ends). An empty shell is
// /bin/sh to login(1) and sshd, so it gives one.
func (e PasswdEntry) LoginShell() bool {
	switch path.Base(e.Shell) {
	case "nologin", "false", "true", "sync", "shutdown", "halt":
		return false
	}
	return true
}

// blanks are what isspace(3) matches, which glibc skips.
const blanks = " \t\n\v\f\r"

// firstEntries calls add with the fields of each line of text that is an
// entry (entryFields with min and n), in file order, except where an
// earlier entry has the same name: getpwnam(3) and getgrnam(3) stop at the
// first. add reports whether its line is an entry after all (its numbers
// parse); one that is not leaves the name to a later line, as glibc goes on
// looking past it.
func firstEntries(text string, min, n int, add func(f []string) bool) {
	taken := map[string]bool{}
	for _, line := range strings.Split(text, "\n") {
		if f := entryFields(line, min, n); f != nil && !taken[f[0]] && add(f) {
			taken[f[0]] = true
		}
	}
}

// entryFields splits a passwd/group line into n fields, the last one
// holding the rest of the line and missing ones empty; nil for lines that
// are no entry: fewer than min fields, a comment, no name, a NIS name.
func entryFields(line string, min, n int) []string {
	line = strings.TrimLeft(line, blanks)
	if line == "" || strings.ContainsRune("#+-:", rune(line[0])) {
		return nil
	}
	f := strings.SplitN(line, ":", n)
	if len(f) < min {
		return nil
	}
	for len(f) < n {
		f = append(f, "")
	}
	return f
}

// parseID reads a uid or gid as glibc does: a decimal number that fits
// uid_t, after optional blanks and '+' (strtoul's leading part).
func parseID(s string) (int, bool) {
	s = strings.TrimLeft(s, blanks)
	if strings.HasPrefix(s, "+") {
		s = s[1:]
	}
	n, err := strconv.ParseUint(s, 10, 32)
	return int(n), err == nil
}
