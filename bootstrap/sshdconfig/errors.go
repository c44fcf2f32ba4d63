package sshdconfig

import (
	"errors"
	"fmt"
)

// Errors returned (wrapped) by Parse and Load; compare with errors.Is. Each one
// is a configuration that sshd itself refuses to start with.
var (
	// ErrQuote: an argument opens a quote it never closes ("invalid quotes").
	ErrQuote = errors.New("invalid quotes")
	// ErrNoArgument: a keyword with nothing after it.
	ErrNoArgument = errors.New("no argument after keyword")
	// ErrEmptyInclude: Include "" names nothing.
	ErrEmptyInclude = errors.New("include with empty argument")
	// ErrIncludeLoop: a file includes itself, directly or through others. sshd
	// recurses until ErrIncludeDepth; we name the loop instead.
	ErrIncludeLoop = errors.New("include loop")
	// ErrIncludeDepth: includes nested deeper than sshd's SERVCONF_MAX_DEPTH (16).
	ErrIncludeDepth = errors.New("too many recursive configuration includes")
	// ErrDuplicateSubsystem: the same Subsystem name defined twice in the global
	// context ("Subsystem 'sftp' already defined.").
	ErrDuplicateSubsystem = errors.New("subsystem already defined")
)

// ParseError places an error on a 1-based line of one file.
type ParseError struct {
	Line int
	Err  error
}

func (e *ParseError) Error() string { return fmt.Sprintf("line %d: %v", e.Line, e.Err) }
func (e *ParseError) Unwrap() error { return e.Err }
