package steps

import (
	"fmt"
	"strings"
)

// The audit timer: hardbake-audit.timer starts hardbake-audit.service, which
// audits the running machine and writes the result as Prometheus metrics
// into node_exporter's textfile collector directory, so the Prometheus that
// scrapes node_exporter sees every host's drift. The monitoring step
// installs these texts into images (/etc/systemd/system, binary
// FirstbootBinary); the native packages ship the same texts, from these
// functions, with the package's binary (/usr/bin/hardbake) and disabled.
const (
	AuditServiceName = "hardbake-audit.service"
	AuditTimerName   = "hardbake-audit.timer"
	AuditService     = "/etc/systemd/system/" + AuditServiceName
	AuditTimer       = "/etc/systemd/system/" + AuditTimerName
	// AuditMetricsFile is the file the service writes in the textfile
	// directory (node_exporter reads every *.prom file there).
	AuditMetricsFile = "hardbake.prom"
	// DefaultTextfileDir is the directory node_exporter's textfile collector
	// reads in the distributions' own packages: Debian's and Ubuntu's
	// prometheus-node-exporter build it in as the default of
	// --collector.textfile.directory (and ship it), and Fedora's and EPEL's
	// golang-github-prometheus-node-exporter carry the same patch and ship
	// it too. Arch's prometheus-node-exporter keeps upstream's default (no
	// directory): there, add --collector.textfile.directory with this path to
	// NODE_EXPORTER_ARGS in /etc/conf.d/prometheus-node-exporter.
	DefaultTextfileDir = "/var/lib/prometheus/node-exporter"
	// DefaultAuditInterval is the minutes between two audits.
	DefaultAuditInterval = 60
)

// AuditServiceUnit is hardbake-audit.service for the hardbake binary at
// binary, auditing against the profile at /etc/hardbake/profile.yaml (the
// baked profile, or the package's default) and writing
// textfileDir/hardbake.prom. Why each line:
//   - audit exits 1 when a check fails or a step cannot check: the metrics
//     file carries that (hardbake_check_ok 0, hardbake_step_error 1), so 1
//     is a success for systemd (SuccessExitStatus) and a drift does not
//     leave a failed unit on every host. Exit 2 (a bad profile, a missing or
//     read-only textfile directory, checked before the audit runs) and any
//     crash still fail the unit.
//   - ConditionPathIsDirectory: without node_exporter's directory there is
//     nobody to read the file; the run is skipped, not failed.
//   - The sandbox only takes away writes and privileges, never what audit
//     reads: ProtectSystem=strict makes everything read-only except the
//     textfile directory and /run (sshd -T needs /run/sshd, which audit
//     creates for the test when sshd is not running); ProtectHome=read-only
//     still lets audit read ~/.ssh/authorized_keys. Not used, because they
//     change what audit sees: PrivateTmp and PrivateDevices (audit checks
//     the mount options of the real /tmp and /dev/shm), PrivateNetwork (the
//     listening sockets and the firewall ruleset are the host's),
//     ProtectKernelModules (hides /usr/lib/modules, which module checks
//     read), ProtectClock and DevicePolicy (they restrict device access).
func AuditServiceUnit(binary, textfileDir string) string {
	out := textfileDir + "/" + AuditMetricsFile
	return `# Written by hardbake: audits this machine against its hardening profile and
# writes the result for node_exporter's textfile collector (see ` + AuditTimerName + `).
[Unit]
Description=hardbake audit for Prometheus (node_exporter textfile collector)
Documentation=man:hardbake(1)
After=local-fs.target network.target
ConditionPathIsDirectory=` + textfileDir + `

[Service]
Type=oneshot
ExecStart=` + binary + ` audit --profile ` + BakedProfile + ` --format prometheus -o ` + out + `
# Exit 1 is "some check failed": the metrics say so; the unit succeeded.
SuccessExitStatus=1
Nice=10
IOSchedulingClass=idle
UMask=0022
ProtectSystem=strict
ReadWritePaths=` + textfileDir + ` /run
ProtectHome=read-only
NoNewPrivileges=yes
RestrictSUIDSGID=yes
RestrictRealtime=yes
LockPersonality=yes
ProtectHostname=yes
ProtectKernelTunables=yes
ProtectControlGroups=yes
TimeoutStartSec=10min
`
}

// AuditTimerUnit is hardbake-audit.timer: a first audit minutes after boot
// (a new machine shows up in Prometheus soon), then one every interval
// minutes. RandomizedDelaySec spreads a fleet booted at once; Persistent is
// not used (it applies to OnCalendar only).
func AuditTimerUnit(intervalMinutes int) string {
	delay := min(max(intervalMinutes/10, 1), 15)
	return fmt.Sprintf(`# Written by hardbake: runs %s every %d minutes.
[Unit]
Description=hardbake audit for Prometheus, every %d minutes
Documentation=man:hardbake(1)

[Timer]
OnBootSec=5min
OnUnitActiveSec=%dmin
RandomizedDelaySec=%dmin

[Install]
WantedBy=timers.target
`, AuditServiceName, intervalMinutes, intervalMinutes, intervalMinutes, delay)
}

// auditCommand is the command line the service runs, for hosts without
// systemd (documentation and warnings).
func auditCommand(binary, textfileDir string) string {
	return strings.Join([]string{binary, "audit", "--profile", BakedProfile, "--format", "prometheus", "-o", textfileDir + "/" + AuditMetricsFile}, " ")
}
