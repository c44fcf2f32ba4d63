package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/hardbake/hardbake/bootstrap"
	"github.com/hardbake/hardbake/bootstrap/report"
	"github.com/hardbake/hardbake/bootstrap/root"
)

// Output formats of `hardbake audit --format`: text is the progress and
// summary a person reads; the others are documents for programs (json: the
// report; prometheus: node_exporter's textfile collector; junit: CI).
var auditFormats = []string{"text", "json", "prometheus", "junit"}

// checkFormat validates --format, --json and -o together, before anything
// runs, so a typo in a unit file or CI job fails at once with exit 2.
func (f *stepFlags) checkFormat() error {
	if !slices.Contains(auditFormats, f.format) {
		return fmt.Errorf("%w: --format: %q is not one of %s", bootstrap.ErrInvalid, f.format, strings.Join(auditFormats, ", "))
	}
	if f.json {
		if f.format != "text" && f.format != "json" {
			return fmt.Errorf("%w: --json and --format %s: choose one", bootstrap.ErrInvalid, f.format)
		}
		f.format = "json"
	}
	if f.output == "" {
		return nil
	}
	if f.format == "text" {
		return fmt.Errorf("%w: -o: needs --format json, prometheus or junit (text goes to the terminal)", bootstrap.ErrInvalid)
	}
	return checkOutputDir(f.output)
}

// checkOutputDir makes sure -o FILE can be written: its directory exists and
// is writable (access(2) also says EROFS for a read-only mount, e.g. a
// systemd sandbox without ReadWritePaths for it). Finding this after the
// audit would leave an old metrics file in place and exit 1, which the
// audit service counts as success; before, it is bad input: exit 2.
func checkOutputDir(file string) error {
	dir := filepath.Dir(file)
	fi, err := os.Stat(dir)
	switch {
	case err != nil:
		return fmt.Errorf("%w: -o %s: %v", bootstrap.ErrInvalid, file, err)
	case !fi.IsDir():
		return fmt.Errorf("%w: -o %s: %s is not a directory", bootstrap.ErrInvalid, file, dir)
	}
	if err := unix.Access(dir, unix.W_OK); err != nil {
		return fmt.Errorf("%w: -o %s: cannot write in %s: %v", bootstrap.ErrInvalid, file, dir, err)
	}
	return nil
}

// toStdout reports whether a document goes to stdout (progress then goes to
// stderr, so stdout holds the document alone).
func (f *stepFlags) toStdout() bool { return f.format != "text" && f.format != "" && f.output == "" }

// writeFormat writes the report in f.format to -o FILE or stdout; text
// writes nothing here (the progress lines and summary are the text).
func writeFormat(f *stepFlags, rep *report.Report, run report.Run, stdout io.Writer) error {
	var b bytes.Buffer
	var err error
	switch f.format {
	case "json":
		err = rep.Write(&b)
	case "prometheus":
		err = report.WritePrometheus(&b, rep, run)
	case "junit":
		err = report.WriteJUnit(&b, rep, run)
	default:
		return nil
	}
	if err != nil {
		return err
	}
	if f.output == "" {
		_, err = stdout.Write(b.Bytes())
		return err
	}
	return writeAtomic(f.output, b.Bytes())
}

// writeAtomic replaces file as every file hardbake writes is replaced: a
// temporary file in the same directory, fsynced, renamed over it, so a
// reader (node_exporter scraping at any moment) sees the old file or the
// new one, never a part. A new file is mode 0644, owned by whoever runs
// hardbake; an existing one keeps its mode and owner.
func writeAtomic(file string, data []byte) error {
	abs, err := filepath.Abs(file)
	if err != nil {
		return err
	}
	dir, err := root.Dir(filepath.Dir(abs))
	if err != nil {
		return err
	}
	return dir.WriteFile("/"+filepath.Base(abs), data, 0o644, root.Owner{UID: os.Getuid(), GID: os.Getgid()})
}

// hostname names this host in JUnit reports ("localhost" when unknown).
func hostname() string {
	h, err := os.Hostname()
	if err != nil || h == "" {
		return "localhost"
	}
	return h
}
