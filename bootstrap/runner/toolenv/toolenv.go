// Package toolenv is the environment every command hardbake runs gets:
// predictable tools (no translated messages, no prompts). A leaf package, so
// that internal/earlysshd can use it without importing the runner.
package toolenv

// Base is the whole environment of a command, before its own extra pairs.
var Base = []string{
	"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
	"LC_ALL=C.UTF-8",
	"LANG=C.UTF-8",
	"DEBIAN_FRONTEND=noninteractive",
	"HOME=/root",
	"TERM=dumb",
}
