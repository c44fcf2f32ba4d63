package profile

import (
	"path"
	"regexp"
)

// Monitoring configures the monitoring step: hardbake-audit.timer, which
// audits every machine started from the image and leaves the result as
// Prometheus metrics for node_exporter's textfile collector.
type Monitoring struct {
	// AuditTimer enables the timer at bake; off, the units are installed
	// but not enabled (`systemctl enable --now hardbake-audit.timer` on a
	// host turns it on there).
	AuditTimer bool `yaml:"audit_timer"`
	// Interval is the minutes between two audits.
	Interval int `yaml:"interval"`
	// TextfileDir is the directory node_exporter's textfile collector reads.
	TextfileDir string `yaml:"textfile_dir"`
}

// unitPath is a path a unit file can carry without quoting: systemd would
// read a space as a separator and % as a specifier.
var unitPath = regexp.MustCompile(`^/[A-Za-z0-9._/-]+$`)

func (v *validator) monitoring(m *Monitoring) {
	v.intRange("monitoring.interval", m.Interval, 5, 1440)
	switch d := m.TextfileDir; {
	case !unitPath.MatchString(d):
		v.add("monitoring.textfile_dir", "%q is not an absolute path of letters, digits, '.', '_', '-' and '/'", d)
	case path.Clean(d) != d:
		v.add("monitoring.textfile_dir", "%q is not a clean directory path (e.g. /var/lib/prometheus/node-exporter)", d)
	}
}
