package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/hardbake/hardbake/bootstrap"
	"github.com/hardbake/hardbake/bootstrap/distro"
	"github.com/hardbake/hardbake/bootstrap/profile"
	"github.com/hardbake/hardbake/bootstrap/report"
	"github.com/hardbake/hardbake/bootstrap/root"
	"github.com/hardbake/hardbake/bootstrap/runner"
	"github.com/hardbake/hardbake/bootstrap/steps"
	"github.com/hardbake/hardbake/images/diskimage"
)

// stepFlags are the flags of bake, plan and audit.
type stepFlags struct {
	root, profile, reportFile string
	only, skip                listFlag
	dryRun, json, force       bool
	seal, audit               bool
	// format and output: audit's --format and -o (see format.go).
	format, output string
	// image and partition: `audit --image` (see image.go).
	image     string
	partition int
	img       *diskimage.Image
}

func parseStepFlags(mode steps.Mode, args []string, stderr io.Writer) (*stepFlags, error) {
	f := &stepFlags{format: "text"}
	fs := flag.NewFlagSet("hardbake "+string(mode), flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&f.root, "root", "/", "harden the system mounted at `DIR` (a chroot or image) instead of this one; commands run via chroot, nothing is started")
	fs.StringVar(&f.profile, "profile", "", "profile `FILE` (YAML); default: the built-in checklist (see `hardbake profile`)")
	fs.StringVar(&f.reportFile, "report", "", "also write the JSON report to `FILE`")
	fs.BoolVar(&f.json, "json", false, "print the JSON report on stdout (progress goes to stderr)")
	f.audit = mode == steps.ModeAudit
	fs.Var(&f.only, "only", "run only these `STEPS` (comma-separated): "+strings.Join(steps.Names(), ", "))
	fs.Var(&f.skip, "skip", "skip these `STEPS` (comma-separated)")
	if mode == steps.ModeAudit {
		fs.StringVar(&f.image, "image", "", "audit the raw disk image `FILE` offline and read-only (GPT, MBR or a bare ext4 filesystem; includes seal)")
		fs.IntVar(&f.partition, "partition", 0, "with --image: the root filesystem's partition `N` (default: the one holding /etc/os-release)")
		fs.StringVar(&f.format, "format", "text", "output `FORMAT`: "+strings.Join(auditFormats, ", ")+" (prometheus: for node_exporter's textfile collector; junit: for CI)")
		fs.StringVar(&f.output, "o", "", "write the --format document to `FILE` (replaced atomically) instead of stdout")
	}
	if mode != steps.ModeAudit {
		fs.BoolVar(&f.seal, "seal", false, "seal the image at the end (remove host keys, empty machine-id, clear logs); images only")
		fs.BoolVar(&f.dryRun, "dry-run", false, "show what would change; change nothing (same as `hardbake plan`)")
		fs.BoolVar(&f.force, "force", false, "turn password login off even when no account has a usable SSH key (you have console access)")
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, errReported
		}
		return nil, fmt.Errorf("%w: %v", bootstrap.ErrInvalid, err)
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("%w: unexpected argument %q", bootstrap.ErrInvalid, fs.Arg(0))
	}
	if err := f.checkFormat(); err != nil {
		return nil, err
	}
	return f, nil
}

// newEnv validates everything the user gave before any step runs: root,
// distribution, profile, step names.
func newEnv(f *stepFlags, logw io.Writer) (*steps.Env, []steps.Step, error) {
	var r *root.Root
	var err error
	if f.image != "" {
		if r, err = openImage(f); err != nil {
			return nil, nil, err
		}
	} else if r, err = root.Dir(f.root); err != nil {
		return nil, nil, fmt.Errorf("%w: --root: %v", bootstrap.ErrInvalid, err)
	}
	d, err := distro.Detect(r)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %v", bootstrap.ErrInvalid, err)
	}
	p := profile.Default()
	if f.profile != "" {
		if p, err = profile.Load(f.profile); err != nil {
			return nil, nil, err
		}
	}
	skip := append(append([]string{}, f.skip...), p.Skip...)
	only := f.only
	if f.image != "" && len(only) == 0 {
		only = imageSteps
	}
	selected, err := steps.Select(only, skip)
	if err != nil {
		return nil, nil, err
	}
	// seal runs only when asked: --seal, or seal.on_bake in the profile.
	// An image is what gets sealed: its audit checks the seal too.
	if f.image != "" && len(f.only) == 0 && !slices.Contains(skip, "seal") {
		sealOnly, _ := steps.Select([]string{"seal"}, nil)
		selected = append(selected, sealOnly...)
	}
	if (f.seal || p.Seal.OnBake) && !f.audit && !slices.Contains(skip, "seal") && !slices.ContainsFunc(selected, func(s steps.Step) bool { return s.Name() == "seal" }) {
		sealOnly, _ := steps.Select([]string{"seal"}, nil)
		selected = append(selected, sealOnly...)
	}
	env := &steps.Env{
		Root: r, Run: runner.Exec{Chroot: r.Dir}, Distro: d, Profile: p, Force: f.force,
		Log:  func(format string, args ...any) { fmt.Fprintf(logw, format+"\n", args...) },
		Keep: sealKeep(f),
	}
	return env, selected, nil
}

// sealKeep names what seal must leave in place on a live system: the
// directory of the running binary and of the report, which a Packer
// provisioner uploads to /tmp and reads back after the bake.
func sealKeep(f *stepFlags) []string {
	if abs, err := filepath.Abs(f.root); err != nil || abs != "/" {
		return nil // under --root these host paths are not in the image
	}
	var keep []string
	if exe, err := os.Executable(); err == nil {
		keep = append(keep, filepath.Dir(exe))
	}
	if f.reportFile != "" {
		if abs, err := filepath.Abs(f.reportFile); err == nil {
			keep = append(keep, filepath.Dir(abs))
		}
	}
	if f.profile != "" {
		if abs, err := filepath.Abs(f.profile); err == nil {
			keep = append(keep, filepath.Dir(abs))
		}
	}
	return keep
}

func runSteps(ctx context.Context, mode steps.Mode, args []string, stdout, stderr io.Writer) error {
	f, err := parseStepFlags(mode, args, stderr)
	if err != nil {
		return err
	}
	if f.dryRun {
		mode = steps.ModePlan
	}
	logw := stdout
	if f.toStdout() {
		logw = stderr
	}
	env, selected, err := newEnv(f, logw)
	defer closeImage(f)
	if err != nil {
		return err
	}
	env.Log("hardbake %s %s on %s: %s", version, mode, env.Root, env.Distro)
	if f.image != "" && len(f.only) == 0 {
		env.Log("audit --image judges %s and seal; the CIS steps need the image's owners and tools: audit them with --root on a mounted copy or on the booted host", strings.Join(imageSteps, ", "))
	}
	start := time.Now()
	rep, runErr := steps.Run(ctx, env, mode, selected)
	stampReport(rep)
	run := report.Run{Start: start, Duration: time.Since(start), Distro: env.Distro.ID, DistroVersion: env.Distro.VersionID, Hostname: hostname()}
	if f.img != nil {
		rep.Root = f.img.Where()
		if err := closeImage(f); err != nil {
			runErr = err
		}
	}
	if mode == steps.ModePlan && !f.toStdout() {
		printPlan(logw, rep)
	}
	if f.reportFile != "" {
		if err := writeReport(f.reportFile, rep); err != nil {
			return err
		}
	}
	if err := writeFormat(f, rep, run, stdout); err != nil {
		return err
	}
	if !f.toStdout() {
		summary(logw, mode, rep)
	}
	if runErr != nil {
		if errors.Is(runErr, bootstrap.ErrCheckFailed) {
			return fmt.Errorf("%w: %w", errReported, runErr)
		}
		return runErr
	}
	return nil
}

func writeReport(file string, rep *report.Report) error {
	fh, err := os.Create(file)
	if err != nil {
		return err
	}
	if err := rep.Write(fh); err != nil {
		fh.Close()
		return err
	}
	return fh.Close()
}

func printPlan(w io.Writer, rep *report.Report) {
	for _, s := range rep.Steps {
		for _, c := range s.Changes {
			switch {
			case c.Diff != "":
				fmt.Fprintf(w, "\n%s: %s %s (%s)\n%s", s.Name, c.Kind, c.Path, c.Summary, c.Diff)
			case c.Command != "":
				fmt.Fprintf(w, "\n%s: would %s: %s (%s)\n", s.Name, c.Kind, c.Command, c.Summary)
			}
		}
	}
	fmt.Fprintln(w)
}

func summary(w io.Writer, mode steps.Mode, rep *report.Report) {
	failed := 0
	for _, s := range rep.Steps {
		for _, c := range s.Checks {
			if c.Failed() {
				failed++
			}
		}
	}
	switch mode {
	case steps.ModePlan:
		fmt.Fprintf(w, "plan: %d change(s) would be made\n", rep.Changed)
	case steps.ModeBake:
		fmt.Fprintf(w, "bake: %d change(s) made, %d check(s) failed\n", rep.Changed, failed)
	case steps.ModeAudit:
		fmt.Fprintf(w, "audit: %d check(s) failed\n", failed)
	}
}
