// Package report is the one JSON document every hardbake run produces
// (--json, --report FILE), and the Packer provisioner reads back.
package report

import (
	"encoding/json"
	"io"
)

// Report is the result of bake, plan, audit or firstboot.
type Report struct {
	Version string `json:"version"`
	// Commit and BuildDate identify the release build (empty in a plain
	// `go build`); `hardbake version` prints the same.
	Commit    string `json:"commit,omitempty"`
	BuildDate string `json:"build_date,omitempty"`
	Command   string `json:"command"`
	Root      string `json:"root"`
	Distro    any    `json:"distro"`
	Changed   int    `json:"changed"`
	OK        bool   `json:"ok"`
	Steps     []Step `json:"steps"`
	Error     string `json:"error,omitempty"`
}

// Step is one step's part of the report.
type Step struct {
	Name    string   `json:"name"`
	Changed bool     `json:"changed"`
	Changes []Change `json:"changes"`
	Checks  []Check  `json:"checks"`
	// Deviations are benchmark items the step deliberately does not follow.
	Deviations []Deviation `json:"deviations,omitempty"`
	Error      string      `json:"error,omitempty"`
}

// Deviation is a benchmark item left as it is on purpose, and why.
type Deviation struct {
	Refs   []string `json:"refs"`
	Reason string   `json:"reason"`
	// OfflineOnly: the image meets the item, but a scanner run on the image
	// offline (oscap-chroot on a directory or mounted disk) cannot see it,
	// because its check reads the running system (/proc, /sys, the live
	// ruleset) or the scanner's own environment. On the booted host it passes.
	OfflineOnly bool `json:"offline_only,omitempty"`
}

// Change is one thing a step did (bake) or would do (plan).
type Change struct {
	Kind    string `json:"kind"` // write, remove, run, validate
	Path    string `json:"path,omitempty"`
	Command string `json:"command,omitempty"`
	Summary string `json:"summary"`
	Diff    string `json:"diff,omitempty"`
}

// Mutates reports whether the change alters the system (validations do not).
func (c Change) Mutates() bool { return c.Kind != "validate" }

// Severity of a failed check: "fail" breaks the run, "warn" is a finding that
// does not (e.g. Arch has no automatic security updates).
const (
	Fail = "fail"
	Warn = "warn"
)

// Check is one verified property of the system.
type Check struct {
	ID       string `json:"id"`
	OK       bool   `json:"ok"`
	Want     string `json:"want"`
	Got      string `json:"got"`
	Severity string `json:"severity,omitempty"`
	Detail   string `json:"detail,omitempty"`
	// Refs name the outside benchmark items the check covers:
	// "dev-sec:sshd-06" (dev-sec ssh-baseline control),
	// "lynis:SSH-7408:PermitRootLogin" (Lynis test and option).
	Refs []string `json:"refs,omitempty"`
}

// Failed reports whether the check fails the run.
func (c Check) Failed() bool { return !c.OK && c.Severity != Warn }

// Finish totals changes and decides OK.
func (r *Report) Finish() {
	r.Changed, r.OK = 0, r.Error == ""
	for i := range r.Steps {
		s := &r.Steps[i]
		if s.Changes == nil {
			s.Changes = []Change{}
		}
		if s.Checks == nil {
			s.Checks = []Check{}
		}
		s.Changed = false
		for _, c := range s.Changes {
			if c.Mutates() {
				r.Changed++
				s.Changed = true
			}
		}
		if s.Error != "" {
			r.OK = false
		}
		for _, c := range s.Checks {
			if c.Failed() {
				r.OK = false
			}
		}
	}
}

// Write encodes the report as indented JSON.
func (r *Report) Write(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}
