package hardbake

import (
	"embed"
	"fmt"
)

// The static hardbake binaries, copied into bin/ by `make build` before the
// plugin is compiled (bin/README.md keeps the directory in git).
//
//go:embed bin
var binFS embed.FS

// embeddedBinary returns the hardbake binary for a Linux GOARCH.
func embeddedBinary(arch string) ([]byte, error) {
	data, err := binFS.ReadFile("bin/hardbake-linux-" + arch)
	if err != nil || len(data) == 0 {
		return nil, fmt.Errorf("linux/%s: %w", arch, errNoBinary)
	}
	return data, nil
}

// goarch maps `uname -m` to a GOARCH hardbake is built for.
func goarch(unameM string) (string, error) {
	switch unameM {
	case "x86_64", "amd64":
		return "amd64", nil
	case "aarch64", "arm64":
		return "arm64", nil
	}
	return "", fmt.Errorf("unsupported target architecture %q (uname -m); hardbake is built for x86_64 and aarch64", unameM)
}
