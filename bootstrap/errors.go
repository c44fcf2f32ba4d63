// Package bootstrap holds what every hardbake layer shares: the error values
// that decide exit codes. Its subpackages (root, runner, distro, profile,
// sshdconfig, steps, report) build the hardening engine.
package bootstrap

import (
	"errors"
	"fmt"
)

// Exit codes of the hardbake binary (and the Packer provisioner's failures).
const (
	ExitOK       = 0
	ExitFailed   = 1 // a step or check failed
	ExitBadInput = 2 // bad usage or bad input; nothing was changed
)

var (
	// ErrInvalid marks bad usage or bad input, detected before anything changed.
	ErrInvalid = errors.New("invalid input")
	// ErrLockout is a refusal: the change would leave no way to log in.
	ErrLockout = fmt.Errorf("%w: refusing to lock out", ErrInvalid)
	// ErrCheckFailed means the system does not meet the profile.
	ErrCheckFailed = errors.New("check failed")
	// ErrValidation is a target tool (sshd -t, nft -c, visudo -c) rejecting
	// what a step wrote; the step restored the previous files.
	ErrValidation = errors.New("validation by the target's own tool failed")
)

// ExitCode maps an error to the binary's exit code.
func ExitCode(err error) int {
	switch {
	case err == nil:
		return ExitOK
	case errors.Is(err, ErrInvalid):
		return ExitBadInput
	default:
		return ExitFailed
	}
}
