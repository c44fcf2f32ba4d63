package profile

import (
	"errors"
	"strings"
	"testing"

	"github.com/hardbake/hardbake/bootstrap"
)

func TestMonitoringDefaults(t *testing.T) {
	m := Default().Monitoring
	if m.AuditTimer || m.Interval != 60 || m.TextfileDir != "/var/lib/prometheus/node-exporter" {
		t.Fatalf("monitoring defaults: %+v", m)
	}
	p, err := Parse([]byte("monitoring:\n  audit_timer: true\n  interval: 15\n  textfile_dir: /srv/node_exporter/text-files\n"))
	if err != nil || !p.Monitoring.AuditTimer || p.Monitoring.Interval != 15 || p.Monitoring.TextfileDir != "/srv/node_exporter/text-files" {
		t.Fatalf("%+v %v", p.Monitoring, err)
	}
}

func TestBadMonitoringValues(t *testing.T) {
	for _, c := range []struct{ yaml, want string }{
		{"monitoring:\n  interval: 1\n", `monitoring.interval (line 2): 1 is out of range 5-1440`},
		{"monitoring:\n  interval: 2000\n", `monitoring.interval (line 2): 2000 is out of range 5-1440`},
		{"monitoring:\n  textfile_dir: var/lib/x\n", `monitoring.textfile_dir (line 2): "var/lib/x" is not an absolute path`},
		{"monitoring:\n  textfile_dir: \"/var/lib/my dir\"\n", `monitoring.textfile_dir (line 2): "/var/lib/my dir" is not an absolute path`},
		{"monitoring:\n  textfile_dir: /var/lib/%i\n", `monitoring.textfile_dir (line 2): "/var/lib/%i" is not an absolute path`},
		{"monitoring:\n  textfile_dir: /var/lib/../etc\n", `monitoring.textfile_dir (line 2): "/var/lib/../etc" is not a clean directory path`},
		{"monitoring:\n  textfile_dir: /var/lib/x/\n", `monitoring.textfile_dir (line 2): "/var/lib/x/" is not a clean directory path`},
		{"monitoring:\n  textfile_dir: /\n", `monitoring.textfile_dir (line 2): "/" is not an absolute path`},
		{"monitoring:\n  audit_timer: sometimes\n", `monitoring.audit_timer (line 2)`},
		{"monitoring:\n  timer: true\n", `monitoring.timer (line 2)`},
	} {
		_, err := Parse([]byte(c.yaml))
		if !errors.Is(err, bootstrap.ErrInvalid) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: got %v, want %s", c.yaml, err, c.want)
		}
	}
}
