package profile

import "testing"

func TestFilesProfile(t *testing.T) {
	p := Default()
	if !p.Files.InstallCron || len(p.Files.CronAllow) != 1 || p.Files.CronAllow[0] != "root" {
		t.Errorf("default files: %+v", p.Files)
	}
	badProfile(t, "files:\n  cron_allow: [root, \"-x\", root]\n",
		`files.cron_allow[1] (line 2): "-x" is not a user name`,
		`files.cron_allow[2] (line 2): "root" is listed twice`)
	badProfile(t, "files:\n  install_cron: yes please\n",
		`files.install_cron (line 2): must be true or false, got "yes please"`)
}
