package profile

import (
	"fmt"
	"slices"

	"github.com/hardbake/hardbake/internal/names"
)

// Files configures the files step: modes and owners of the account
// databases, cron's and at's files and the boot loader configuration, and
// who may schedule jobs.
type Files struct {
	// InstallCron installs the cron daemon when the image has none (CIS
	// wants a job scheduler whose files it can restrict).
	InstallCron bool `yaml:"install_cron"`
	// CronAllow are the users written to /etc/cron.allow and /etc/at.allow
	// (root is always among them).
	CronAllow []string `yaml:"cron_allow"`
}

func (v *validator) files(c *Files) {
	for i, u := range c.CronAllow {
		path := fmt.Sprintf("files.cron_allow[%d]", i)
		switch {
		case !names.Shadow(u) || len(u) > 32:
			v.add(path, "%q is not a user name", u)
		case slices.Index(c.CronAllow, u) < i:
			v.add(path, "%q is listed twice", u)
		}
	}
}
