package sshdconfig

import "strings"

// aliases maps old or alternative keyword spellings to the keyword sshd stores
// them under (servconf.c keyword table, OpenSSH 9.2). They share one slot, so
// "ChallengeResponseAuthentication no" followed by
// "KbdInteractiveAuthentication yes" leaves keyboard-interactive off — checked
// with sshd -T. Debian's older configs still carry these spellings.
var aliases = map[string]string{
	"challengeresponseauthentication": "kbdinteractiveauthentication",
	"skeyauthentication":              "kbdinteractiveauthentication",
	"dsaauthentication":               "pubkeyauthentication",
	"pubkeyacceptedkeytypes":          "pubkeyacceptedalgorithms",
	"hostbasedacceptedkeytypes":       "hostbasedacceptedalgorithms",
	"hostdsakey":                      "hostkey",
	"keepalive":                       "tcpkeepalive",
	"useblocklist":                    "useblacklist",
}

// accumulating lists the keywords whose every occurrence counts, in read
// order, instead of sshd's usual first-value-wins. servconf.c appends for
// these (its own comment: "appends to list; doesn't respect
// first-match-wins"). Keywords that take many arguments on one line but keep
// only the first line (AuthorizedKeysFile, AuthenticationMethods, SetEnv since
// 8.7, PermitOpen, ...) are deliberately absent.
var accumulating = map[string]bool{
	"port":            true,
	"listenaddress":   true,
	"hostkey":         true,
	"hostcertificate": true,
	"acceptenv":       true,
	"allowusers":      true,
	"denyusers":       true,
	"allowgroups":     true,
	"denygroups":      true,
	"include":         true,
	// Subsystem accumulates too, but one name may be defined only once
	// (sshd 9.2: "Subsystem 'sftp' already defined." is fatal).
	"subsystem": true,
}

// Canonical returns the keyword sshd stores a spelling under: lower-cased,
// with aliases resolved ("ChallengeResponseAuthentication" →
// "kbdinteractiveauthentication").
func Canonical(keyword string) string {
	k := strings.ToLower(keyword)
	if c, ok := aliases[k]; ok {
		return c
	}
	return k
}

// Accumulates reports whether every occurrence of keyword counts (Port,
// ListenAddress, AllowUsers, ...) rather than only the first.
func Accumulates(keyword string) bool { return accumulating[Canonical(keyword)] }
