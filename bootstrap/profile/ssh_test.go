package profile

import (
	"strings"
	"testing"
)

// TestBadSSHValues: each new ssh knob names its field, line and what is
// allowed.
func TestBadSSHValues(t *testing.T) {
	for _, c := range []struct{ name, yaml, want string }{
		{"max_sessions 0", "ssh:\n  max_sessions: 0\n", "ssh.max_sessions (line 2): 0 is out of range 1-100"},
		{"max_startups words", "ssh:\n  max_startups: lots\n", `ssh.max_startups (line 2): "lots" is not "start:rate:full"`},
		{"max_startups start above full", "ssh:\n  max_startups: \"60:30:10\"\n", `ssh.max_startups (line 2): "60:30:10" is not`},
		{"max_startups rate above 100", "ssh:\n  max_startups: \"10:130:60\"\n", `"10:130:60" is not`},
		{"max_startups two fields", "ssh:\n  max_startups: \"10:30\"\n", `"10:30" is not`},
		{"client_alive_interval", "ssh:\n  client_alive_interval: -1\n", "ssh.client_alive_interval (line 2): -1 is out of range 0-3600"},
		{"client_alive_count_max", "ssh:\n  client_alive_count_max: 0\n", "ssh.client_alive_count_max (line 2): 0 is out of range 1-10"},
		{"log_level", "ssh:\n  log_level: DEBUG3\n", `ssh.log_level (line 2): "DEBUG3" is not one of INFO, VERBOSE`},
		{"allow_groups", "ssh:\n  allow_groups: [ops, \"bad group\"]\n", `ssh.allow_groups[1] (line 2): "bad group" is not a group name`},
		{"banner too long", "ssh:\n  banner: \"" + strings.Repeat("x", 2049) + "\"\n", "ssh.banner (line 2): must be text of at most 2048 bytes"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse([]byte(c.yaml))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v, want %q", err, c.want)
			}
		})
	}
	for _, ok := range []string{"ssh:\n  max_startups: \"10\"\n", "ssh:\n  max_startups: \"10:30:100\"\n", "ssh:\n  log_level: VERBOSE\n  allow_groups: [ops, dev-team]\n  banner: \"\"\n"} {
		if _, err := Parse([]byte(ok)); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
}
