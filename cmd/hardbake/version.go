package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"runtime"

	"github.com/hardbake/hardbake/bootstrap"
	"github.com/hardbake/hardbake/bootstrap/report"
)

// commit and buildDate are stamped at build time beside version (make build,
// make release): -ldflags "-X main.commit=<git commit> -X main.buildDate=<RFC 3339>".
// The release's build date is its commit's date, so building a tag again
// gives the same bytes. A plain `go build` leaves both empty.
var commit, buildDate string

// buildInfo is `hardbake version --json`.
type buildInfo struct {
	Version   string `json:"version"`
	Commit    string `json:"commit"`
	BuildDate string `json:"build_date"`
	Go        string `json:"go"`
	OS        string `json:"os"`
	Arch      string `json:"arch"`
}

func currentBuild() buildInfo {
	return buildInfo{Version: version, Commit: commit, BuildDate: buildDate,
		Go: runtime.Version(), OS: runtime.GOOS, Arch: runtime.GOARCH}
}

// String is the one line `hardbake version` prints: the version, then the
// commit and build date when the build stamped them.
func (b buildInfo) String() string {
	s := "hardbake " + b.Version
	if b.Commit != "" {
		s += " commit " + b.Commit
	}
	if b.BuildDate != "" {
		s += " built " + b.BuildDate
	}
	return s
}

func runVersion(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("hardbake version", flag.ContinueOnError)
	fs.SetOutput(stderr)
	asJSON := fs.Bool("json", false, "print version, commit, build date, Go version and platform as JSON")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return errReported
		}
		return fmt.Errorf("%w: %v", bootstrap.ErrInvalid, err)
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: unexpected argument %q", bootstrap.ErrInvalid, fs.Arg(0))
	}
	b := currentBuild()
	if !*asJSON {
		_, err := fmt.Fprintln(stdout, b)
		return err
	}
	out, err := json.MarshalIndent(b, "", "  ")
	if err != nil {
		return err
	}
	_, err = stdout.Write(append(out, '\n'))
	return err
}

// stampReport puts this build's version, commit and build date on a report,
// so a report found on a host says which hardbake wrote it.
func stampReport(rep *report.Report) {
	rep.Version, rep.Commit, rep.BuildDate = version, commit, buildDate
}
