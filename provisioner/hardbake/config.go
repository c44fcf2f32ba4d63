//go:generate go tool packer-sdc mapstructure-to-hcl2 -type Config

// Package hardbake is the Packer provisioner `hardbake`: it uploads the
// static hardbake binary and a profile into the build VM, runs `hardbake bake`,
// streams its progress, fetches the JSON report and fails the build on failure.
package hardbake

import (
	"github.com/hashicorp/packer-plugin-sdk/common"
	"github.com/hashicorp/packer-plugin-sdk/template/interpolate"
)

// Config is the provisioner block.
type Config struct {
	common.PackerConfig `mapstructure:",squash"`

	// Path to a hardbake profile (YAML) on the machine running Packer. It is
	// validated with the same code as the hardbake binary when the template
	// is validated. Mutually exclusive with `profile_yaml`. Without either,
	// the built-in default profile (the hardening checklist) is used.
	Profile string `mapstructure:"profile"`
	// A hardbake profile inline, as YAML text (e.g. a heredoc).
	ProfileYAML string `mapstructure:"profile_yaml"`
	// Run only these steps (names as in `hardbake bake --only`). Not named
	// `only`: that is Packer's own provisioner argument selecting sources.
	OnlySteps []string `mapstructure:"only_steps"`
	// Skip these steps (`hardbake bake --skip`).
	SkipSteps []string `mapstructure:"skip_steps"`
	// Seal the image at the end of the bake: remove SSH host keys, empty
	// machine-id, clear logs and histories. Defaults to true, because this
	// provisioner usually runs last. Set false when other provisioners follow.
	Seal *bool `mapstructure:"seal"`
	// Install and enable the first-boot unit that applies per-host data.
	// Defaults to true.
	InstallFirstboot *bool `mapstructure:"install_firstboot"`
	// The command that runs hardbake on the target. `{{.Path}}` is the
	// uploaded binary and `{{.Args}}` its arguments. Defaults to
	// `sudo -n {{.Path}} {{.Args}}`; use `{{.Path}} {{.Args}}` when the build
	// user is root.
	ExecuteCommand string `mapstructure:"execute_command"`
	// Directory on the target for the uploaded files; a private
	// subdirectory is created in it and removed afterwards. Defaults to `/tmp`.
	RemoteDir string `mapstructure:"remote_dir"`
	// Local path where the JSON report of the bake is written.
	ReportPath string `mapstructure:"report_path"`
	// Only show what would change (`hardbake plan`); change nothing.
	DryRun bool `mapstructure:"dry_run"`
	// Local path of a hardbake binary to upload instead of the one embedded
	// in the plugin (which exists for linux/amd64 and linux/arm64).
	Binary string `mapstructure:"binary"`

	ctx interpolate.Context
}
