// Package names matches the short ASCII names hardbake validates (user,
// group, package and host names, configuration file names, clock times)
// with byte tests instead of regular expressions.
//
// Every hardbake command starts by initialising every package it links, so
// a regular expression compiled in a package variable costs each start
// (tens of microseconds warm, several times that on a first boot's cold
// caches), and one compiled on first use costs the first boot that uses it.
// These names are simple enough that a loop says the same thing; the tests
// hold each function to the regular expression its caller documents.
package names

// lower reports whether c is an ASCII lower-case letter.
func lower(c byte) bool { return 'a' <= c && c <= 'z' }

// Digit reports whether c is an ASCII digit.
func Digit(c byte) bool { return '0' <= c && c <= '9' }

// alnum reports whether c is an ASCII letter or digit.
func alnum(c byte) bool { return lower(c) || Digit(c) || 'A' <= c && c <= 'Z' }

// match reports whether s is one byte that first accepts followed by any
// number of bytes that rest accepts: the regular expression ^[F][R]*$.
func match(s string, first, rest func(byte) bool) bool {
	if s == "" || !first(s[0]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		if !rest(s[i]) {
			return false
		}
	}
	return true
}

// DebianUser is Debian's adduser NAME_REGEX, ^[a-z][-a-z0-9_]*$.
func DebianUser(s string) bool {
	return match(s, lower, func(c byte) bool { return lower(c) || Digit(c) || c == '-' || c == '_' })
}

// Shadow is the portable part of what shadow-utils' useradd and groupadd
// accept without --badname: ^[a-z_][a-z0-9_-]*[$]?$ (the trailing $ is
// Samba's machine accounts).
func Shadow(s string) bool {
	if len(s) > 1 && s[len(s)-1] == '$' {
		s = s[:len(s)-1]
	}
	return match(s, func(c byte) bool { return lower(c) || c == '_' },
		func(c byte) bool { return lower(c) || Digit(c) || c == '_' || c == '-' })
}

// Package is a Debian package name as the profile accepts it,
// ^[a-z0-9][a-z0-9+._-]*$.
func Package(s string) bool {
	return match(s, func(c byte) bool { return lower(c) || Digit(c) },
		func(c byte) bool { return lower(c) || Digit(c) || c == '+' || c == '.' || c == '_' || c == '-' })
}

// ClockTime is a 24-hour HH:MM, ^([01][0-9]|2[0-3]):[0-5][0-9]$.
func ClockTime(s string) bool {
	if len(s) != 5 || s[2] != ':' || !Digit(s[0]) || !Digit(s[1]) || !Digit(s[4]) || s[3] < '0' || s[3] > '5' {
		return false
	}
	return s[0] < '2' || s[0] == '2' && s[1] <= '3'
}

// AptPart is a file name apt reads from a configuration directory,
// ^[A-Za-z0-9_.-]+$ (the extension rules are the caller's).
func AptPart(s string) bool {
	part := func(c byte) bool { return alnum(c) || c == '_' || c == '.' || c == '-' }
	return match(s, part, part)
}

// HostLabel is an RFC 1123 host name label: 1 to 63 letters, digits and
// hyphens, starting and ending with a letter or digit,
// ^[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?$ (whose {0,61} compiles to a
// program of its own).
func HostLabel(s string) bool {
	if len(s) > 63 || s != "" && s[len(s)-1] == '-' {
		return false
	}
	return match(s, alnum, func(c byte) bool { return alnum(c) || c == '-' })
}
