package distro

import (
	"strconv"
	"strings"
	"unicode"

	"github.com/hardbake/hardbake/internal/names"
)

// UserNameRule is what the distribution's own account tool accepts as a
// new user name. Names outside it make useradd/adduser fail half-way, or
// worse, be accepted by one tool and refused by another.
type UserNameRule struct {
	Pattern string // the rule as a regular expression, for messages
	match   func(string) bool
	MaxLen  int
	Tool    string // who enforces it, for messages
}

var (
	// Debian's adduser NAME_REGEX (adduser.conf(5)); Ubuntu keeps it.
	debianUserName = UserNameRule{`^[a-z][-a-z0-9_]*$`, names.DebianUser, 32, "adduser NAME_REGEX"}
	// shadow-utils useradd without --badname (Fedora, RHEL, Arch): the
	// portable subset of what its is_valid_user_name accepts.
	useraddUserName = UserNameRule{`^[a-z_][a-z0-9_-]*[$]?$`, names.Shadow, 32, "useradd"}
)

// UserNameRule returns the rule for this distribution.
func (i Info) UserNameRule() UserNameRule {
	switch i.Family {
	case Debian, Ubuntu:
		return debianUserName
	default:
		return useraddUserName
	}
}

// Match reports whether name matches Pattern (its length aside).
func (r UserNameRule) Match(name string) bool { return r.match(name) }

// Valid reports whether name passes the rule.
func (r UserNameRule) Valid(name string) bool {
	return len(name) <= r.MaxLen && r.match(name)
}

// UIDRange is the range of uids given to regular (human) accounts; every
// uid outside it belongs to the system (daemons, nobody, reserved ranges).
type UIDRange struct{ Min, Max int }

// Regular reports whether uid is a regular user's.
func (r UIDRange) Regular(uid int) bool { return uid >= r.Min && uid <= r.Max }

// UIDRangeFromLoginDefs reads UID_MIN/UID_MAX from login.defs(5) text, the
// values useradd itself uses; missing values get shadow's defaults
// (1000-60000). Debian reserves 60000-64999 and 65534 (nobody) for the
// system, which the default UID_MAX already excludes.
func UIDRangeFromLoginDefs(text string) UIDRange {
	r := UIDRange{Min: 1000, Max: 60000}
	for line := range strings.Lines(text) {
		// Most of the file is comments: only UID_M... lines are split.
		if !strings.HasPrefix(strings.TrimLeftFunc(line, unicode.IsSpace), "UID_M") {
			continue
		}
		f := strings.Fields(line)
		if len(f) < 2 || strings.HasPrefix(f[0], "#") {
			continue
		}
		n, err := strconv.Atoi(f[1])
		if err != nil {
			continue
		}
		switch f[0] {
		case "UID_MIN":
			r.Min = n
		case "UID_MAX":
			r.Max = n
		}
	}
	return r
}
