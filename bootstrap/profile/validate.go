package profile

import (
	"fmt"
	"slices"
	"strings"
)

// validator checks values after decoding; lines maps field paths to YAML lines.
type validator struct {
	lines    map[string]int
	problems []Problem
}

func (v *validator) add(path, format string, args ...any) {
	for _, p := range v.problems {
		if p.Path == path {
			return // already reported while decoding: the value is not what the user wrote
		}
	}
	v.problems = append(v.problems, Problem{Path: path, Line: v.lines[path], Msg: fmt.Sprintf(format, args...)})
}

func (v *validator) oneOf(path, got string, allowed []string) {
	if !slices.Contains(allowed, got) {
		v.add(path, "%q is not one of %s", got, strings.Join(allowed, ", "))
	}
}

func (v *validator) intRange(path string, got, min, max int) {
	if got < min || got > max {
		v.add(path, "%d is out of range %d-%d", got, min, max)
	}
}

func (v *validator) profile(p *Profile) {
	v.skip(p.Skip)
	v.ssh(&p.SSH)
	v.updates(&p.Updates)
	v.services(&p.Services)
	v.kernel(&p.Kernel)
	v.accounts(&p.Accounts)
	v.logging(&p.Logging)
	v.mounts(&p.Mounts)
	v.files(&p.Files)
	v.timesync(&p.TimeSync)
	v.mac(&p.MAC)
	v.fail2ban(&p.Fail2ban)
	v.firewall(&p.Firewall)
	v.audit(&p.Audit)
	v.monitoring(&p.Monitoring)
	v.seal(&p.Seal)
}

func (v *validator) ssh(s *SSH) {
	v.oneOf("ssh.permit_root_login", s.PermitRootLogin, []string{"no", "prohibit-password"})
	v.oneOf("ssh.address_family", s.AddressFamily, AddressFamilies)
	v.ports("ssh.ports", s.Ports)
	v.intRange("ssh.max_auth_tries", s.MaxAuthTries, 1, 10)
	v.intRange("ssh.login_grace_time", s.LoginGraceTime, 10, 600)
	v.hostKeyTypes(s.HostKeyTypes)
	v.crypto(s)
}
