// Command packer-plugin-hardbake is the Packer plugin that provides the
// `hardbake` provisioner. Install it with
// `packer plugins install --path packer-plugin-hardbake github.com/hardbake/hardbake`.
package main

import (
	"fmt"
	"os"

	"github.com/hardbake/hardbake/provisioner/hardbake"
	"github.com/hashicorp/packer-plugin-sdk/plugin"
	"github.com/hashicorp/packer-plugin-sdk/version"
)

// Version is stamped at build time (-X main.Version=0.1.0). Packer needs a
// release version (no "-dev" suffix) to find an installed plugin offline.
var (
	Version           = "0.1.0"
	VersionPrerelease = ""
)

func main() {
	pps := plugin.NewSet()
	// DEFAULT_NAME makes the HCL type plain `hardbake` (not hardbake-hardbake).
	pps.RegisterProvisioner(plugin.DEFAULT_NAME, new(hardbake.Provisioner))
	pps.SetVersion(version.NewPluginVersion(Version, VersionPrerelease, ""))
	if err := pps.Run(); err != nil {
		fmt.Fprintln(os.Stderr, err.Error())
		os.Exit(1)
	}
}
