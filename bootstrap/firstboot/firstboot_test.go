package firstboot

import (
	"strings"
	"testing"
)

func TestBootSafe(t *testing.T) {
	cases := map[string]string{
		"reload-or-restart fail2ban.service": "--no-block try-reload-or-restart fail2ban.service",
		"try-reload-or-restart ssh.service":  "--no-block try-reload-or-restart ssh.service",
		"restart ssh.socket":                 "--no-block try-restart ssh.socket",
		"enable hardbake-firstboot.service":  "enable hardbake-firstboot.service",
		"daemon-reload":                      "daemon-reload",
		"start apt-daily.timer":              "",
	}
	for in, want := range cases {
		c, ok := bootSafe(splitArgs(in))
		got := ""
		if ok {
			got = joinArgs(c.Args)
		}
		if got != want {
			t.Errorf("%s: got %q, want %q", in, got, want)
		}
	}
}

func splitArgs(s string) []string { return strings.Fields(s) }

func joinArgs(a []string) string { return strings.Join(a, " ") }
