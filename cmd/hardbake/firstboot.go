package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"syscall"

	"github.com/hardbake/hardbake/bootstrap"
	"github.com/hardbake/hardbake/bootstrap/distro"
	"github.com/hardbake/hardbake/bootstrap/firstboot"
	"github.com/hardbake/hardbake/bootstrap/host"
	"github.com/hardbake/hardbake/bootstrap/profile"
	"github.com/hardbake/hardbake/bootstrap/root"
	"github.com/hardbake/hardbake/bootstrap/runner"
	"github.com/hardbake/hardbake/bootstrap/steps"
	"github.com/hardbake/hardbake/images/cidata"
)

// runFirstboot is `hardbake firstboot`: wiring only (flags, the seed reader
// from images/, the console); bootstrap/firstboot does the work.
func runFirstboot(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var rootDir, config, seedImage, profileFile, reportFile string
	var jsonOut, example bool
	fs := flag.NewFlagSet("hardbake firstboot", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&rootDir, "root", "/", "apply to the system mounted at `DIR` (commands via chroot; no seed device lookup)")
	fs.StringVar(&config, "config", "", "host data `FILE` (YAML; root-owned, not group/world-writable); default: "+host.File+", then a NoCloud seed")
	fs.StringVar(&seedImage, "seed", "", "read host data from this NoCloud seed `IMAGE` or device instead of looking for one")
	fs.StringVar(&profileFile, "profile", "", "profile `FILE`; default: the baked "+firstboot.ProfileFile+", else the built-in one")
	fs.StringVar(&reportFile, "report", "", "also write the JSON report to `FILE`")
	fs.BoolVar(&jsonOut, "json", false, "print the JSON report on stdout (progress goes to stderr)")
	fs.BoolVar(&example, "example", false, "print the commented host data schema and exit")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return errReported
		}
		return fmt.Errorf("%w: %v", bootstrap.ErrInvalid, err)
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: unexpected argument %q", bootstrap.ErrInvalid, fs.Arg(0))
	}
	if example {
		_, err := io.WriteString(stdout, host.ExampleYAML)
		return err
	}
	logw := stdout
	if jsonOut {
		logw = stderr
	}
	r, err := root.Dir(rootDir)
	if err != nil {
		return fmt.Errorf("%w: --root: %v", bootstrap.ErrInvalid, err)
	}
	d, err := distro.Detect(r)
	if err != nil {
		return fmt.Errorf("%w: %v", bootstrap.ErrInvalid, err)
	}
	p, err := firstbootProfile(r, profileFile)
	if err != nil {
		return err
	}
	env := &steps.Env{
		Root: r, Run: runner.Exec{Chroot: r.Dir}, Distro: d, Profile: p,
		Log: func(format string, args ...any) { fmt.Fprintf(logw, format+"\n", args...) },
	}
	src := host.Sources{Config: config, Root: r}
	switch {
	case seedImage != "":
		src.Seed = cidata.FromImage(seedImage)
	case r.IsLive():
		src.Seed = cidata.Lookup // the host's devices are not a chroot's
	}
	rep, runErr := firstboot.Run(ctx, firstboot.Options{
		Env: env, Sources: src, Version: version,
		Warn: func(msg string) { warnLoudly(stderr, msg, r.IsLive()) },
	})
	stampReport(rep)
	if reportFile != "" {
		if err := writeReport(reportFile, rep); err != nil {
			return err
		}
	}
	if jsonOut {
		if err := rep.Write(stdout); err != nil {
			return err
		}
	} else if runErr == nil {
		fmt.Fprintf(logw, "firstboot: %d change(s)\n", rep.Changed)
	}
	if runErr == nil && !rep.OK {
		return fmt.Errorf("%w: %w", errReported, bootstrap.ErrCheckFailed)
	}
	return runErr
}

// firstbootProfile is --profile, else the profile the image was baked
// with, else the built-in one.
func firstbootProfile(r *root.Root, profileFile string) (*profile.Profile, error) {
	switch {
	case profileFile != "":
		return profile.Load(profileFile)
	case r.Exists(firstboot.ProfileFile):
		return profile.Load(r.HostPath(firstboot.ProfileFile))
	}
	return profile.Default(), nil
}

// warnLoudly prints to stderr and, on a live system, to the console too:
// at first boot nobody reads the journal before trying to log in.
func warnLoudly(stderr io.Writer, msg string, live bool) {
	fmt.Fprintln(stderr, msg)
	if !live {
		return
	}
	if f, err := os.OpenFile("/dev/console", os.O_WRONLY|syscall.O_NOCTTY|syscall.O_NONBLOCK, 0); err == nil {
		fmt.Fprintln(f, msg)
		f.Close()
	}
}
