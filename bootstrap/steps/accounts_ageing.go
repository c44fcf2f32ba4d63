package steps

import (
	"strconv"
	"strings"
)

// Password ageing must never lock out an account that has no password.
// pam_unix's account check (which sshd runs after a key login, and sudo
// before every command, NOPASSWD or not) answers "new password required"
// once last-change + max-days lies in the past, whatever the hash is; for a
// locked "!" hash sshd then ends the key login ("password change required
// but no TTY available", or a change nobody can answer) and sudo refuses
// ("Account or password is expired"). useradd gives every new account
// login.defs' PASS_MAX_DAYS and useradd's INACTIVE, so with CIS's 365 days
// the key-only admins that first boot, cloud-init and Packer create would
// be locked out a year later. This is the cloud breakage Ansible Lockdown
// ships.
//
// hardbake's rule: an account without a usable password hash (empty, or
// starting with '!' or '*') has no ageing (max and inactive days -1). One
// script applies it, run by the bake and on the machine by a oneshot unit at
// every boot (after first boot's and cloud-init's users exist) and by a path
// unit whenever /etc/shadow changes (cloud-init, useradd, adduser later).
// An account that gets a password keeps no ageing until the next bake sets
// it; the unit only ever removes ageing, so it cannot lock anyone out.

const (
	AgeingScript  = "/usr/local/sbin/hardbake-password-ageing"
	AgeingService = "hardbake-password-ageing.service"
	AgeingPath    = "hardbake-password-ageing.path"
)

// AgeingScriptText is the one implementation of the rule on the machine. awk
// (mawk on Debian, gawk elsewhere) is in every base system; chage is
// shadow's and takes /etc/shadow's lock. A max of 99999 days (Debian's old
// default) never comes, so such accounts are left alone.
const AgeingScriptText = `#!/bin/sh
# Written by hardbake (accounts step); rewritten on every bake.
# Accounts without a usable password (hash empty, or starting with ! or *:
# key-only admins made by first boot, cloud-init or an image build) get no
# password ageing: PAM would demand a new password at their next SSH key
# login or sudo once it expired, and they have none to change.
# Run at boot (hardbake-password-ageing.service) and whenever /etc/shadow
# changes (hardbake-password-ageing.path).
set -eu
awk -F: '($2 == "" || $2 ~ /^[!*]/) && $5 != "" && $5 + 0 >= 0 && $5 + 0 < 99999 { print $1 }' /etc/shadow |
while IFS= read -r user; do
	chage -M -1 -I -1 "$user"
	echo "hardbake: no password ageing for $user (no usable password)"
done
`

// ageingService runs the script at every boot once the users of first
// boot and cloud-init exist; ordering after units a machine lacks is
// harmless.
const ageingService = `# Written by hardbake (accounts step); rewritten on every bake.
[Unit]
Description=No password ageing for accounts without a password (hardbake)
After=hardbake-firstboot.service cloud-init.service cloud-config.service

[Service]
Type=oneshot
ExecStart=` + AgeingScript + `

[Install]
WantedBy=multi-user.target
`

// ageingPath runs it again whenever /etc/shadow is replaced: shadow's tools
// write shadow+ and rename it, which systemd sees in the directory.
const ageingPath = `# Written by hardbake (accounts step); rewritten on every bake.
[Unit]
Description=Watch /etc/shadow for accounts created without a password (hardbake)

[Path]
PathChanged=/etc/shadow
Unit=` + AgeingService + `

[Install]
WantedBy=multi-user.target
`

// shadowEntry is the part of an /etc/shadow line ageing needs.
type shadowEntry struct {
	Name, Hash string
	LastChange int // days since 1970; -1 when empty
	Max        int // -1 when empty (no ageing)
	Inactive   int // -1 when empty
}

// usablePassword reports whether the hash can ever match a password.
func (e shadowEntry) usablePassword() bool {
	return e.Hash != "" && e.Hash[0] != '!' && e.Hash[0] != '*'
}

// expires reports whether the password has a max age that can come.
func (e shadowEntry) expires() bool { return e.Max >= 0 && e.Max < 99999 }

func parseShadow(text string) []shadowEntry {
	num := func(s string) int {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil {
			return -1
		}
		return n
	}
	var out []shadowEntry
	for _, l := range strings.Split(text, "\n") {
		f := strings.Split(l, ":")
		if len(f) < 7 || f[0] == "" || strings.HasPrefix(f[0], "#") || strings.HasPrefix(f[0], "+") || strings.HasPrefix(f[0], "-") {
			continue
		}
		out = append(out, shadowEntry{Name: f[0], Hash: f[1], LastChange: num(f[2]), Max: num(f[4]), Inactive: num(f[6])})
	}
	return out
}

// ageingLockouts names the accounts without a usable password whose
// password can still expire: the ones the script must fix.
func ageingLockouts(shadow string) []string {
	var out []string
	for _, e := range parseShadow(shadow) {
		if !e.usablePassword() && e.expires() {
			out = append(out, e.Name)
		}
	}
	return out
}
