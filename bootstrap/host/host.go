// Package host is the per-host data `hardbake firstboot` applies to one
// machine started from a baked image: the admin user and its keys, the SSH
// address family and port, the host name. It is YAML with a strict schema
// (the profile's decoder: unknown keys, wrong types and every semantic
// problem reported with field path and line) and it is hostile until
// proven otherwise: keys are parsed with golang.org/x/crypto/ssh, options
// and line breaks refused, names checked against the distribution's rules
// and the target's own /etc files.
package host

import (
	_ "embed"
	"fmt"

	"github.com/hardbake/hardbake/bootstrap/profile"
)

// ExampleYAML is the commented example `hardbake firstboot --example` prints
// and the documentation shows; a test keeps it valid.
//
//go:embed example.yaml
var ExampleYAML string

// Host is one machine's data.
type Host struct {
	User     User   `yaml:"user"`
	SSH      SSH    `yaml:"ssh"`
	Hostname string `yaml:"hostname"`

	// Keys are the parsed user.authorized_keys, filled in by validation.
	Keys []Key `yaml:"-"`
	// Source names where the data came from, for messages and the marker.
	Source string `yaml:"-"`
}

// User is the admin account to create.
type User struct {
	Name           string   `yaml:"name"`
	Shell          string   `yaml:"shell"`
	Groups         []string `yaml:"groups"`
	Sudo           string   `yaml:"sudo"`
	AuthorizedKeys []string `yaml:"authorized_keys"`
}

// SSH overrides the baked profile's ssh settings for this host.
type SSH struct {
	AddressFamily string `yaml:"address_family"`
	Port          int    `yaml:"port"`
}

// Sudo modes.
const (
	SudoPassword = "password"
	SudoNoPasswd = "nopasswd"
)

// SudoModes are the values user.sudo accepts.
var SudoModes = []string{SudoPassword, SudoNoPasswd}

// DefaultShell is user.shell when left out.
const DefaultShell = "/bin/bash"

// HasUser reports whether the data asks for a user.
func (h *Host) HasUser() bool { return h.User.Name != "" }

// Fingerprints lists the keys' SHA256 fingerprints, the only form in which
// keys appear in logs and reports.
func (h *Host) Fingerprints() []string {
	out := make([]string, len(h.Keys))
	for i, k := range h.Keys {
		out[i] = k.Fingerprint
	}
	return out
}

// Error is the profile's error type: a source and its problems, wrapping
// bootstrap.ErrInvalid (exit code 2).
type Error = profile.Error

// Problem is one thing wrong, with field path and line.
type Problem = profile.Problem

func problemsError(source string, problems []Problem) error {
	if len(problems) == 0 {
		return nil
	}
	if source == "" {
		source = "host data"
	}
	return &Error{Source: source, Problems: problems}
}

// errorf is a single problem about the whole input (unreadable file, bad owner).
func errorf(source, format string, args ...any) error {
	return problemsError(source, []Problem{{Path: "host", Msg: fmt.Sprintf(format, args...)}})
}
