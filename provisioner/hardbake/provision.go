package hardbake

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path"
	"strings"
	"time"

	"github.com/hardbake/hardbake/bootstrap/report"
	packersdk "github.com/hashicorp/packer-plugin-sdk/packer"
	"github.com/hashicorp/packer-plugin-sdk/template/interpolate"
)

// executeData is what execute_command may use.
type executeData struct {
	Path string
	Args string
}

// Provision implements packer.Provisioner.
func (p *Provisioner) Provision(ctx context.Context, ui packersdk.Ui, comm packersdk.Communicator, generatedData map[string]interface{}) error {
	// With communicator "none" Packer still hands us a communicator whose
	// commands "succeed" silently: refuse instead of pretending.
	if ct, ok := generatedData["ConnType"].(string); ok && ct == "none" {
		return fmt.Errorf("hardbake needs a communicator (ssh) to reach the build VM; communicator is \"none\"")
	}
	c := &p.config
	ui.Say("hardbake: detecting the target's architecture")
	out, err := p.run(ctx, ui, comm, "uname -m", false)
	if err != nil {
		return fmt.Errorf("uname -m: %w", err)
	}
	arch, err := goarch(strings.TrimSpace(out))
	if err != nil {
		return err
	}
	var bin []byte
	if c.Binary != "" {
		bin, err = os.ReadFile(c.Binary)
	} else {
		bin, err = p.binaries(arch)
	}
	if err != nil {
		return err
	}

	dir := path.Join(c.RemoteDir, fmt.Sprintf("hardbake-%d", time.Now().UnixNano()))
	if _, err := p.run(ctx, ui, comm, "mkdir -m 0700 "+shellQuote(dir), false); err != nil {
		return fmt.Errorf("creating %s on the target: %w", dir, err)
	}
	// Remove what we uploaded whatever happens next.
	defer func() {
		if _, err := p.run(context.Background(), ui, comm, "rm -rf "+shellQuote(dir), false); err != nil {
			ui.Error(fmt.Sprintf("hardbake: could not remove %s on the target: %v", dir, err))
		}
	}()
	binPath, profilePath, reportPath := dir+"/hardbake", dir+"/profile.yaml", dir+"/report.json"
	ui.Say(fmt.Sprintf("hardbake: uploading hardbake (linux/%s, %d bytes) and the profile to %s", arch, len(bin), dir))
	if err := upload(comm, binPath, bin, 0o755); err != nil {
		return fmt.Errorf("uploading hardbake: %w", err)
	}
	if err := upload(comm, profilePath, p.profileData, 0o600); err != nil {
		return fmt.Errorf("uploading the profile: %w", err)
	}
	// Upload does not promise to keep the mode on every communicator.
	if _, err := p.run(ctx, ui, comm, "chmod 0755 "+shellQuote(binPath), false); err != nil {
		return err
	}

	args := p.bakeArgs(profilePath, reportPath)
	c.ctx.Data = &executeData{Path: shellQuote(binPath), Args: strings.Join(args, " ")}
	command, err := interpolate.Render(c.ExecuteCommand, &c.ctx)
	if err != nil {
		return fmt.Errorf("execute_command: %w", err)
	}
	ui.Say("hardbake: running " + command)
	cmd := &packersdk.RemoteCmd{Command: command}
	if err := cmd.RunWithUi(ctx, comm, ui); err != nil {
		return fmt.Errorf("running hardbake: %w", err)
	}
	status := cmd.ExitStatus()

	rep, repErr := p.fetchReport(comm, reportPath)
	if repErr != nil {
		ui.Error("hardbake: " + repErr.Error())
	}
	if status != 0 {
		return bakeFailure(status, rep)
	}
	if repErr != nil {
		return repErr
	}
	ui.Say(fmt.Sprintf("hardbake: done: %d change(s), all checks passed", rep.Changed))
	return nil
}

// bakeArgs builds the hardbake command line; every argument is quoted.
func (p *Provisioner) bakeArgs(profilePath, reportPath string) []string {
	c := &p.config
	args := []string{"bake", "--profile", shellQuote(profilePath), "--report", shellQuote(reportPath)}
	if c.DryRun {
		args = append(args, "--dry-run")
	}
	if len(c.OnlySteps) > 0 {
		args = append(args, "--only", shellQuote(strings.Join(c.OnlySteps, ",")))
	}
	skip := append([]string{}, c.SkipSteps...)
	if !*c.InstallFirstboot && stepKnown("firstboot") {
		skip = append(skip, "firstboot")
	}
	if len(skip) > 0 {
		args = append(args, "--skip", shellQuote(strings.Join(skip, ",")))
	}
	if *c.Seal && !c.DryRun && stepKnown("seal") {
		args = append(args, "--seal")
	}
	return args
}

func (p *Provisioner) fetchReport(comm packersdk.Communicator, remote string) (*report.Report, error) {
	var buf bytes.Buffer
	if err := comm.Download(remote, &buf); err != nil {
		return nil, fmt.Errorf("downloading the report %s: %w", remote, err)
	}
	var rep report.Report
	if err := json.Unmarshal(buf.Bytes(), &rep); err != nil {
		return nil, fmt.Errorf("the report %s is not valid JSON: %w", remote, err)
	}
	if p.config.ReportPath != "" {
		if err := os.WriteFile(p.config.ReportPath, buf.Bytes(), 0o644); err != nil {
			return &rep, fmt.Errorf("writing report_path: %w", err)
		}
	}
	return &rep, nil
}

// bakeFailure names the failing step and its message, and the exit code.
func bakeFailure(status int, rep *report.Report) error {
	kind := map[int]string{1: "a step or check failed", 2: "bad input, nothing was changed"}[status]
	if kind == "" {
		kind = "unexpected exit"
	}
	msg := fmt.Sprintf("hardbake bake exited with code %d (%s)", status, kind)
	if rep == nil {
		return fmt.Errorf("%s", msg)
	}
	var details []string
	for _, s := range rep.Steps {
		if s.Error != "" {
			details = append(details, fmt.Sprintf("step %s: %s", s.Name, s.Error))
		}
		for _, ch := range s.Checks {
			if ch.Failed() {
				details = append(details, fmt.Sprintf("check %s: want %s, got %s", ch.ID, ch.Want, ch.Got))
			}
		}
	}
	if len(details) == 0 && rep.Error != "" {
		details = append(details, rep.Error)
	}
	if len(details) > 0 {
		msg += ": " + strings.Join(details, "; ")
	}
	return fmt.Errorf("%s", msg)
}

// run runs a short command and returns its stdout; stderr goes to the error.
func (p *Provisioner) run(ctx context.Context, ui packersdk.Ui, comm packersdk.Communicator, command string, stream bool) (string, error) {
	var stdout, stderr bytes.Buffer
	cmd := &packersdk.RemoteCmd{Command: command, Stdout: &stdout, Stderr: &stderr}
	if err := comm.Start(ctx, cmd); err != nil {
		return "", err
	}
	if status := cmd.Wait(); status != 0 {
		return stdout.String(), fmt.Errorf("%q exited with %d: %s", command, status, strings.TrimSpace(stderr.String()))
	}
	return stdout.String(), nil
}

func upload(comm packersdk.Communicator, dst string, data []byte, mode os.FileMode) error {
	fi := os.FileInfo(fileInfo{name: path.Base(dst), size: int64(len(data)), mode: mode})
	return comm.Upload(dst, bytes.NewReader(data), &fi)
}

// shellQuote quotes s for a POSIX shell.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./,=:") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
