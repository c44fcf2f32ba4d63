package profile

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/hardbake/hardbake/internal/names"
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
	v.intRange("ssh.max_sessions", s.MaxSessions, 1, 100)
	v.maxStartups("ssh.max_startups", s.MaxStartups)
	v.intRange("ssh.client_alive_interval", s.ClientAliveInterval, 0, 3600)
	v.intRange("ssh.client_alive_count_max", s.ClientAliveCountMax, 1, 10)
	v.oneOf("ssh.log_level", s.LogLevel, LogLevels)
	if len(s.Banner) > 2048 || strings.ContainsRune(s.Banner, 0) {
		v.add("ssh.banner", "must be text of at most 2048 bytes")
	}
	for i, g := range s.AllowGroups {
		if !names.Shadow(g) || len(g) > 32 {
			v.add(fmt.Sprintf("ssh.allow_groups[%d]", i), "%q is not a group name", g)
		}
	}
}

// maxStartups accepts sshd's MaxStartups forms, "start:rate:full" (start <=
// full, rate a percentage 1-100) or a plain number.
func (v *validator) maxStartups(path, got string) {
	f := strings.Split(got, ":")
	n := make([]int, len(f))
	ok := len(f) == 1 || len(f) == 3
	for i := range f {
		var err error
		if n[i], err = strconv.Atoi(f[i]); err != nil || n[i] < 1 {
			ok = false
		}
	}
	if ok && len(f) == 3 && (n[1] > 100 || n[0] > n[2]) {
		ok = false
	}
	if !ok {
		v.add(path, `%q is not "start:rate:full" (start <= full, rate 1-100) or a number`, got)
	}
}
