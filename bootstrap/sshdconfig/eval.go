package sshdconfig

import (
	"errors"
	"fmt"
	pathpkg "path"
)

// Value is one directive as sshd would apply it.
type Value struct {
	Keyword string // canonical lower-case keyword (aliases resolved, see Canonical)
	Written string // keyword as written, lower-cased; differs from Keyword for aliases
	Args    []string
	File    string
	Line    int
}

// MatchBlock is one Match section: its criteria and the directives under it,
// including those pulled in by an Include inside the block.
type MatchBlock struct {
	Criteria   []string
	File       string
	Line       int
	Directives []Value
}

// Effective is what sshd makes of a configuration before any connection:
// the global values, and the Match blocks that may override them per connection.
type Effective struct {
	Values  map[string][]Value // global (non-Match) values by canonical keyword; one Value unless Accumulates(keyword)
	Matches []MatchBlock       // every Match block in read order
	Files   []string           // files read, in first-read order
}

// Get returns the effective global value of keyword (any spelling or alias):
// the first one sshd read.
func (e *Effective) Get(keyword string) (Value, bool) {
	vs := e.Values[Canonical(keyword)]
	if len(vs) == 0 {
		return Value{}, false
	}
	return vs[0], true
}

// All returns every global value of keyword in read order: one for
// first-value-wins keywords, all occurrences for accumulating ones.
func (e *Effective) All(keyword string) []Value { return e.Values[Canonical(keyword)] }

// Load reads the configuration at path (normally /etc/ssh/sshd_config) and
// every file it includes, and returns sshd's effective view of it.
//
// Include follows sshd 9.2 exactly (all checked against sshd -T):
//   - relative patterns are relative to /etc/ssh; matches are read in sorted
//     order; a '*' does not match dot-files (glob(3) without GLOB_PERIOD);
//   - a pattern or literal path matching nothing is not an error — sshd calls
//     glob(3) without GLOB_NOCHECK and skips GLOB_NOMATCH, so a missing
//     "Include /etc/ssh/sshd_config.d/*.conf" target or file is silently ignored;
//   - an included file starts in the includer's context: global for a
//     top-level Include, the enclosing Match block for an Include inside one;
//     a Match inside an included file ends at the end of that file;
//   - a file including itself is ErrIncludeLoop; nesting deeper than 16 is
//     ErrIncludeDepth, like sshd's "Too many recursive configuration includes".
func Load(fsys FS, path string) (*Effective, error) {
	l := &loader{fsys: fsys, eff: &Effective{Values: map[string][]Value{}}, seen: map[string]bool{}}
	if err := l.file(pathpkg.Clean(path), 0, global); err != nil {
		return nil, err
	}
	return l.eff, nil
}

// global is the match context outside any Match block.
const global = -1

type loader struct {
	fsys  FS
	eff   *Effective
	seen  map[string]bool
	stack []string // files being read, outermost first, for loop detection
}

// file reads one file at include depth depth, starting in match context ctx
// (global, or an index into eff.Matches).
func (l *loader) file(name string, depth, ctx int) error {
	for _, open := range l.stack {
		if open == name {
			return fmt.Errorf("%s includes itself via %v: %w", name, l.stack, ErrIncludeLoop)
		}
	}
	if depth > maxIncludeDepth {
		return fmt.Errorf("%s: %w", name, ErrIncludeDepth)
	}
	data, err := l.fsys.ReadFile(name)
	if err != nil {
		return fmt.Errorf("read sshd config: %w", err)
	}
	lines, err := Parse(string(data))
	if err != nil {
		var pe *ParseError
		if errors.As(err, &pe) {
			return fmt.Errorf("%s line %d: %w", name, pe.Line, pe.Err)
		}
		return fmt.Errorf("%s: %w", name, err)
	}
	if !l.seen[name] {
		l.seen[name] = true
		l.eff.Files = append(l.eff.Files, name)
	}
	l.stack = append(l.stack, name)
	defer func() { l.stack = l.stack[:len(l.stack)-1] }()

	for _, ln := range lines {
		switch ln.Keyword {
		case "":
			continue
		case "match":
			// A new Match replaces the current context; Match blocks never nest.
			l.eff.Matches = append(l.eff.Matches, MatchBlock{Criteria: ln.Args, File: name, Line: ln.Num})
			ctx = len(l.eff.Matches) - 1
			continue
		}
		v := Value{Keyword: Canonical(ln.Keyword), Written: ln.Keyword, Args: ln.Args, File: name, Line: ln.Num}
		if ctx == global {
			if err := l.setGlobal(v); err != nil {
				return err
			}
		} else {
			m := &l.eff.Matches[ctx]
			m.Directives = append(m.Directives, v)
		}
		if v.Keyword == "include" {
			// The included file inherits ctx; our ctx is untouched by
			// whatever Match it opens, as sshd restores *activep afterwards.
			if err := l.include(v, depth, ctx); err != nil {
				return err
			}
		}
	}
	return nil
}

// setGlobal records a directive read outside any Match block.
func (l *loader) setGlobal(v Value) error {
	have := l.eff.Values[v.Keyword]
	switch {
	case v.Keyword == "subsystem":
		for _, h := range have {
			if h.Args[0] == v.Args[0] {
				return fmt.Errorf("%s line %d: Subsystem %q (first defined at %s line %d): %w",
					v.File, v.Line, v.Args[0], h.File, h.Line, ErrDuplicateSubsystem)
			}
		}
	case accumulating[v.Keyword]:
	case len(have) > 0:
		return nil // first value wins
	}
	l.eff.Values[v.Keyword] = append(have, v)
	return nil
}
