package diskimage

import (
	"errors"
	"fmt"

	"github.com/hardbake/hardbake/bootstrap"
)

// Errors, all bad input (exit code 2): the image is not one hardbake can
// audit offline. Messages say what to do instead.
var (
	ErrUnsupported = fmt.Errorf("%w: unsupported disk image", bootstrap.ErrInvalid)
	ErrMalformed   = fmt.Errorf("%w: malformed disk image", bootstrap.ErrInvalid)
	ErrNoRoot      = fmt.Errorf("%w: no root filesystem", bootstrap.ErrInvalid)
	// ErrRead is go-diskfs failing (or panicking) on a filesystem that
	// passed every check: the audit's results cannot be trusted.
	ErrRead = fmt.Errorf("%w: reading the image failed", bootstrap.ErrInvalid)
)

// Error names the image file and, when known, the partition.
type Error struct {
	File      string
	Partition int // 0: the whole image
	Kind      error
	Msg       string
}

func (e *Error) Error() string {
	where := e.File
	if e.Partition > 0 {
		where = fmt.Sprintf("%s partition %d", e.File, e.Partition)
	}
	return fmt.Sprintf("%s: %s", where, e.Msg)
}

func (e *Error) Unwrap() error { return e.Kind }

func newErr(file string, part int, kind error, format string, args ...any) *Error {
	return &Error{File: file, Partition: part, Kind: kind, Msg: fmt.Sprintf(format, args...)}
}

// IsUnsupported reports whether err says the image cannot be read offline.
func IsUnsupported(err error) bool { return errors.Is(err, ErrUnsupported) }
