// Command hardbake hardens a Linux system or image the way a careful admin
// would by hand: bake at image build time, firstboot per host, audit anywhere.
// It is one static binary with no cgo and no Packer code.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/hardbake/hardbake/bootstrap"
	"github.com/hardbake/hardbake/bootstrap/profile"
	"github.com/hardbake/hardbake/bootstrap/steps"
)

// version is stamped at build time: -ldflags "-X main.version=v1.2.3".
var version = "dev"

const usage = `hardbake: harden golden images and the hosts started from them.

Usage:
  hardbake bake    [--root DIR] [--profile FILE] [--only STEP,..] [--skip STEP,..] [--dry-run] [--force] [--seal] [--json] [--report FILE]
  hardbake plan    [same flags as bake]   what bake would change (file diffs, commands); changes nothing
  hardbake audit   [--root DIR] [--profile FILE] [--only STEP,..] [--skip STEP,..] [--json] [--report FILE]
                   [--format text|json|prometheus|junit] [-o FILE]   (-o: the document to FILE, replaced atomically)
  hardbake seal    [--root DIR] [--profile FILE] [--json] [--report FILE]   only the seal step (images)
  hardbake seed    --host FILE [--user-data FILE] [--meta-data FILE] [--network-config FILE] [--instance-id ID] [--hostname NAME] [--format iso|vfat] -o FILE
                   a NoCloud seed image (cidata) carrying the per-host data for cloud-init and firstboot
  hardbake firstboot [--root DIR] [--config FILE] [--seed IMAGE] [--profile FILE] [--json] [--report FILE]
                   apply this machine's host data once (user, keys, sudo, ssh, host keys, hostname)
  hardbake firstboot --example   print the commented host data schema
  hardbake profile  print the default profile, commented
  hardbake version [--json]   version, commit and build date (--json: also Go version and platform)

Exit codes: 0 ok, 1 a step or check failed, 2 bad usage or bad input (nothing changed).
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return bootstrap.ExitBadInput
	}
	var err error
	switch args[0] {
	case "bake":
		err = runSteps(ctx, steps.ModeBake, args[1:], stdout, stderr)
	case "plan":
		err = runSteps(ctx, steps.ModePlan, args[1:], stdout, stderr)
	case "audit":
		err = runSteps(ctx, steps.ModeAudit, args[1:], stdout, stderr)
	case "seal":
		err = runSteps(ctx, steps.ModeBake, append([]string{"--only", "seal"}, args[1:]...), stdout, stderr)
	case "seed":
		err = runSeed(args[1:], stdout, stderr)
	case "firstboot":
		err = runFirstboot(ctx, args[1:], stdout, stderr)
	case "profile":
		_, err = io.WriteString(stdout, profile.DefaultYAML)
	case "version", "--version", "-v":
		err = runVersion(args[1:], stdout, stderr)
	case "help", "--help", "-h":
		fmt.Fprint(stdout, usage)
	default:
		err = fmt.Errorf("%w: unknown command %q; commands: bake, plan, audit, seal, seed, firstboot, profile, version", bootstrap.ErrInvalid, args[0])
	}
	if err != nil {
		if !errors.Is(err, errReported) {
			fmt.Fprintf(stderr, "hardbake: %v\n", err)
		}
		return bootstrap.ExitCode(err)
	}
	return bootstrap.ExitOK
}

// errReported wraps errors already printed as part of the report.
var errReported = errors.New("reported")

// listFlag is a comma-separated flag that may also be repeated.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error {
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			*l = append(*l, s)
		}
	}
	return nil
}
