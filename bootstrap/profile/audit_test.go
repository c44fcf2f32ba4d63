package profile

import "testing"

// TestAuditProfile: the defaults never halt a machine over a full audit
// disk, and each action is checked against what auditd.conf accepts.
func TestAuditProfile(t *testing.T) {
	a := Default().Audit
	if !a.Auditd || !a.AIDE || !a.Immutable || a.MaxLogFile != 6 || a.MaxLogFileAction != "keep_logs" {
		t.Errorf("default audit section: %+v", a)
	}
	for _, action := range []string{a.SpaceLeftAction, a.AdminSpaceLeftAction, a.DiskFullAction, a.DiskErrorAction} {
		if action == "halt" || action == "single" {
			t.Errorf("a default action takes the machine off the network: %+v", a)
		}
	}
	p, err := Parse([]byte("audit:\n  admin_space_left_action: halt\n  disk_full_action: single\n  aide: false\n"))
	if err != nil {
		t.Fatal(err)
	}
	if p.Audit.AdminSpaceLeftAction != "halt" || p.Audit.DiskFullAction != "single" || p.Audit.AIDE || !p.Audit.Auditd {
		t.Errorf("audit: %+v", p.Audit)
	}
	badProfile(t, "audit:\n  max_log_file: 0\n  max_log_file_action: delete\n  space_left_action: exec\n",
		`audit.max_log_file (line 2): 0 is out of range 1-4096`,
		`audit.max_log_file_action (line 3): "delete" is not one of keep_logs, rotate, syslog, suspend, ignore`,
		`audit.space_left_action (line 4): "exec" is not one of email, syslog, rotate, suspend, single, halt, ignore`)
	badProfile(t, "audit:\n  disk_full_action: email\n  disk_error_action: rotate\n  admin_space_left_action: HALT\n",
		`audit.disk_full_action (line 2): "email" is not one of syslog, suspend, rotate, single, halt, ignore`,
		`audit.disk_error_action (line 3): "rotate" is not one of syslog, suspend, single, halt, ignore`,
		`audit.admin_space_left_action (line 4): "HALT" is not one of email, syslog, rotate, suspend, single, halt, ignore`)
}
