package profile

// Audit configures the audit step: auditd with CIS's rule set loaded at
// boot, and AIDE with its database and daily check.
type Audit struct {
	// Auditd installs auditd, writes the CIS rules and auditd.conf, and
	// starts it at boot.
	Auditd bool `yaml:"auditd"`
	// MaxLogFile is auditd.conf's max_log_file, in MB (SSG's CIS profile: 6).
	MaxLogFile int `yaml:"max_log_file"`
	// The actions of auditd.conf (auditd.conf(5)). Defaults keep the host
	// up and reachable: none of them halts a cloud machine.
	MaxLogFileAction     string `yaml:"max_log_file_action"`
	SpaceLeftAction      string `yaml:"space_left_action"`
	AdminSpaceLeftAction string `yaml:"admin_space_left_action"`
	DiskFullAction       string `yaml:"disk_full_action"`
	DiskErrorAction      string `yaml:"disk_error_action"`
	// Immutable ends the rules with "-e 2": nobody changes them until the
	// next boot.
	Immutable bool `yaml:"immutable"`
	// BootParameters adds audit=1 and audit_backlog_limit to GRUB's kernel
	// command line where the image has GRUB.
	BootParameters bool `yaml:"boot_parameters"`
	// AIDE installs AIDE, builds its database at bake and enables its
	// daily check.
	AIDE bool `yaml:"aide"`
}

// The values auditd.conf(5) accepts for each action ("exec" is left out: it
// needs a program of the user's).
var (
	AuditMaxLogFileActions = []string{"keep_logs", "rotate", "syslog", "suspend", "ignore"}
	AuditSpaceActions      = []string{"email", "syslog", "rotate", "suspend", "single", "halt", "ignore"}
	AuditDiskActions       = []string{"syslog", "suspend", "rotate", "single", "halt", "ignore"}
	AuditDiskErrorActions  = []string{"syslog", "suspend", "single", "halt", "ignore"}
)

func (v *validator) audit(c *Audit) {
	v.intRange("audit.max_log_file", c.MaxLogFile, 1, 4096)
	v.oneOf("audit.max_log_file_action", c.MaxLogFileAction, AuditMaxLogFileActions)
	v.oneOf("audit.space_left_action", c.SpaceLeftAction, AuditSpaceActions)
	v.oneOf("audit.admin_space_left_action", c.AdminSpaceLeftAction, AuditSpaceActions)
	v.oneOf("audit.disk_full_action", c.DiskFullAction, AuditDiskActions)
	v.oneOf("audit.disk_error_action", c.DiskErrorAction, AuditDiskErrorActions)
}
