// Command gen writes the files the native packages carry beside the binary,
// into one directory that packaging/nfpm.yaml picks up:
//
//	hardbake.1.gz               man page, from `hardbake help` of the built binary
//	hardbake.bash               bash completion, from the same text and the step names
//	hardbake-firstboot.service  first-boot unit   } the texts a bake writes
//	hardbake-firstboot          SysV init script  } (bootstrap/steps), with
//	hardbake-audit.service      audit for Prometheus } /usr/bin/hardbake
//	hardbake-audit.timer
//	profile.yaml                the commented default profile (hardbake profile)
//	copyright, changelog.gz     for /usr/share/doc/hardbake
//
// It is a separate program, not a hidden hardbake command, so the shipped
// binary carries no packaging code; it reads the usage and the version from
// the built binary itself, so the man page says exactly what that binary
// prints. Run by `make release`:
//
//	go run ./packaging/gen -hardbake dist/hardbake_linux_amd64/hardbake -o DIR
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/hardbake/hardbake/bootstrap/profile"
	"github.com/hardbake/hardbake/bootstrap/steps"
	"github.com/hardbake/hardbake/internal/pkgfiles"
)

// Where the packages install the binary and the units (packaging/nfpm.yaml).
const (
	PackageBinary  = "/usr/bin/hardbake"
	PackageUnitDir = "/usr/lib/systemd/system"
	packageWriter  = "the hardbake package"
)

func main() {
	bin := flag.String("hardbake", "", "the built hardbake `BINARY` (runnable here) whose usage and version the files carry")
	out := flag.String("o", "", "write the files into `DIR`")
	maintainer := flag.String("maintainer", "", "package maintainer `\"NAME <EMAIL>\"`, for the changelog")
	flag.Parse()
	if *bin == "" || *out == "" || *maintainer == "" {
		fmt.Fprintln(os.Stderr, "usage: gen -hardbake BINARY -maintainer \"NAME <EMAIL>\" -o DIR")
		os.Exit(2)
	}
	if err := write(*bin, *maintainer, *out); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

// build is what `hardbake version --json` says.
type build struct {
	Version   string `json:"version"`
	Commit    string `json:"commit"`
	BuildDate string `json:"build_date"`
}

func write(bin, maintainer, dir string) error {
	help, err := exec.Command(bin, "help").Output()
	if err != nil {
		return fmt.Errorf("%s help: %v", bin, err)
	}
	vj, err := exec.Command(bin, "version", "--json").Output()
	if err != nil {
		return fmt.Errorf("%s version --json: %v", bin, err)
	}
	var b build
	if err := json.Unmarshal(vj, &b); err != nil {
		return fmt.Errorf("%s version --json: %v", bin, err)
	}
	date, err := time.Parse(time.RFC3339, b.BuildDate)
	if err != nil {
		return fmt.Errorf("%s was built without a build date (-X main.buildDate): %v", bin, err)
	}
	u, err := pkgfiles.ParseUsage(string(help))
	if err != nil {
		return err
	}
	man, err := pkgfiles.Gzip([]byte(pkgfiles.ManPage(u, b.Version, date.Format("2006-01-02"), manFiles)))
	if err != nil {
		return err
	}
	changelog, err := pkgfiles.Gzip([]byte(debianChangelog(b, maintainer, date)))
	if err != nil {
		return err
	}
	files := []struct {
		name string
		data []byte
		mode os.FileMode
	}{
		{"hardbake.1.gz", man, 0o644},
		{"hardbake.bash", []byte(pkgfiles.BashCompletion(u, profile.StepNames)), 0o644},
		{steps.FirstbootUnitName, []byte(steps.FirstbootUnitText(PackageBinary, packageWriter)), 0o644},
		{steps.FirstbootInitName, []byte(steps.FirstbootInitScriptText(PackageBinary, packageWriter)), 0o755},
		{steps.AuditServiceName, []byte(steps.AuditServiceUnit(PackageBinary, steps.DefaultTextfileDir)), 0o644},
		{steps.AuditTimerName, []byte(steps.AuditTimerUnit(steps.DefaultAuditInterval)), 0o644},
		{"profile.yaml", []byte(profile.DefaultYAML), 0o644},
		{"copyright", []byte(copyright), 0o644},
		{"changelog.gz", changelog, 0o644},
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for _, f := range files {
		if err := os.WriteFile(filepath.Join(dir, f.name), f.data, f.mode); err != nil {
			return err
		}
		if err := os.Chmod(filepath.Join(dir, f.name), f.mode); err != nil {
			return err
		}
	}
	return nil
}

// manFiles is the man page's FILES section: what the package installs and
// what hardbake itself writes on a host.
var manFiles = []pkgfiles.File{
	{Path: steps.BakedProfile, About: "The profile first boot and the audit service use. The package installs the commented default " +
		"(a configuration file: kept on upgrade and removal, deleted on purge); a bake writes the profile it baked with."},
	{Path: PackageUnitDir + "/" + steps.FirstbootUnitName, About: "Runs hardbake firstboot once per machine, before sshd. Installed disabled; " +
		"a bake enables its own copy under /etc/systemd/system."},
	{Path: steps.FirstbootInitScript, About: "The same for SysV init (Debian without systemd); installed, not enabled."},
	{Path: PackageUnitDir + "/" + steps.AuditServiceName, About: "Runs hardbake audit --format prometheus into " +
		steps.DefaultTextfileDir + "/" + steps.AuditMetricsFile + " for node_exporter's textfile collector."},
	{Path: PackageUnitDir + "/" + steps.AuditTimerName, About: "Starts the audit service periodically; installed disabled (systemctl enable --now " +
		steps.AuditTimerName + ")."},
	{Path: steps.FirstbootMarker, About: "Written last by a successful first boot; the first-boot unit does not run again while it exists."},
}

// copyright is /usr/share/doc/hardbake/copyright.
const copyright = `hardbake: harden golden images and the hosts started from them
Source: https://github.com/hardbake/hardbake

Copyright 2026 the hardbake authors.

The project has not chosen a license yet; see the source repository. The
binary is statically linked with the Go modules listed in the repository's
go.mod, each under its own free software license.
`

// debianChangelog is one entry for this release, in Debian's format (dpkg
// and lintian read it; the package is native, so it is changelog.gz).
func debianChangelog(b build, maintainer string, date time.Time) string {
	v := strings.TrimPrefix(b.Version, "v")
	return fmt.Sprintf("hardbake (%s) unstable; urgency=medium\n\n  * Release %s (commit %s).\n\n -- %s  %s\n",
		v, b.Version, b.Commit, maintainer, date.UTC().Format("Mon, 02 Jan 2006 15:04:05 -0700"))
}
