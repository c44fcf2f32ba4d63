package hardbake

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/hardbake/hardbake/bootstrap/profile"
	"github.com/hashicorp/hcl/v2/hcldec"
	packersdk "github.com/hashicorp/packer-plugin-sdk/packer"
	"github.com/hashicorp/packer-plugin-sdk/template/config"
	"github.com/hashicorp/packer-plugin-sdk/template/interpolate"
)

// DefaultExecuteCommand runs the uploaded binary as root through sudo; -n
// makes a missing NOPASSWD rule fail at once instead of hanging on a prompt.
const DefaultExecuteCommand = "sudo -n {{.Path}} {{.Args}}"

// Provisioner is the `hardbake` provisioner.
type Provisioner struct {
	config Config
	// profileData is the profile YAML uploaded to the target (validated).
	profileData []byte
	// binaries returns the hardbake binary for a GOARCH; tests replace it.
	binaries func(arch string) ([]byte, error)
}

// ConfigSpec implements packer.Provisioner.
func (p *Provisioner) ConfigSpec() hcldec.ObjectSpec { return p.config.FlatMapstructure().HCL2Spec() }

// Prepare decodes the configuration, fills in defaults and validates
// everything at once, so `packer validate` shows every mistake together.
func (p *Provisioner) Prepare(raws ...interface{}) error {
	err := config.Decode(&p.config, &config.DecodeOpts{
		PluginType:         "hardbake",
		Interpolate:        true,
		InterpolateContext: &p.config.ctx,
		InterpolateFilter:  &interpolate.RenderFilter{Exclude: []string{"execute_command"}},
	}, raws...)
	if err != nil {
		return err
	}
	c := &p.config

	// Defaults.
	if c.ExecuteCommand == "" {
		c.ExecuteCommand = DefaultExecuteCommand
	}
	if c.RemoteDir == "" {
		c.RemoteDir = "/tmp"
	}
	if c.Seal == nil {
		c.Seal = boolPtr(true)
	}
	if c.InstallFirstboot == nil {
		c.InstallFirstboot = boolPtr(true)
	}
	if p.binaries == nil {
		p.binaries = embeddedBinary
	}

	// Validation: collect every problem.
	var errs *packersdk.MultiError
	add := func(format string, args ...any) { errs = packersdk.MultiErrorAppend(errs, fmt.Errorf(format, args...)) }
	switch {
	case c.Profile != "" && c.ProfileYAML != "":
		add("profile and profile_yaml are mutually exclusive: set one")
	case c.Profile != "":
		if _, err := profile.Load(c.Profile); err != nil {
			add("profile: %v", err)
		} else if p.profileData, err = os.ReadFile(c.Profile); err != nil {
			add("profile: %v", err)
		}
	case c.ProfileYAML != "":
		if _, err := profile.Parse([]byte(c.ProfileYAML)); err != nil {
			add("profile_yaml: %v", err)
		}
		p.profileData = []byte(c.ProfileYAML)
	default:
		p.profileData = []byte(profile.DefaultYAML)
	}
	known := profile.StepNames
	for _, field := range []struct {
		name string
		list []string
	}{{"only_steps", c.OnlySteps}, {"skip_steps", c.SkipSteps}} {
		for _, s := range field.list {
			if !slices.Contains(known, s) {
				add("%s: unknown step %q; steps are: %s", field.name, s, strings.Join(known, ", "))
			}
		}
	}
	if !strings.HasPrefix(c.RemoteDir, "/") {
		add("remote_dir: %q must be an absolute path", c.RemoteDir)
	}
	if c.Binary != "" {
		if fi, err := os.Stat(c.Binary); err != nil {
			add("binary: %v", err)
		} else if fi.IsDir() {
			add("binary: %s is a directory", c.Binary)
		}
	}
	if !strings.Contains(c.ExecuteCommand, "{{.Path}}") {
		add("execute_command: %q must contain {{.Path}}", c.ExecuteCommand)
	} else if _, err := interpolate.Render(c.ExecuteCommand, &interpolate.Context{Data: &executeData{}}); err != nil {
		add("execute_command: %v", err)
	}
	if errs != nil && len(errs.Errors) > 0 {
		return errs
	}
	return nil
}

func boolPtr(b bool) *bool { return &b }

// errNoBinary is returned when the plugin was built without the embedded
// hardbake binaries and no `binary` is configured.
var errNoBinary = errors.New("this plugin build embeds no hardbake binary for the target architecture; build it with `make build` or set `binary`")

// stepKnown reports whether this build of hardbake has a step of that name.
// The names come from the profile package, not from bootstrap/steps: the
// plugin validates with them but never runs a step, so it does not link the
// steps (bootstrap/steps' registry test keeps the two lists equal).
func stepKnown(name string) bool { return slices.Contains(profile.StepNames, name) }
