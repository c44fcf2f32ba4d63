// Package pkgfiles makes the files the release packages carry beside the
// binary: the man page and the bash completion, both from the usage text the
// binary itself prints (`hardbake help`), so neither can say something the
// binary does not.
package pkgfiles

import (
	"fmt"
	"regexp"
	"strings"
)

// Usage is the parsed text of `hardbake help`:
//
//	hardbake: <summary>
//
//	Usage:
//	  hardbake CMD [flags..]   description
//	                   continuation: more [flags] or more description
//
//	<notes, e.g. the exit codes>
type Usage struct {
	Summary  string
	Commands []Command
	Notes    []string
}

// Command is one "hardbake CMD ..." entry. A command may have several
// entries (firstboot and firstboot --example): each is kept, in order.
type Command struct {
	Name        string
	Synopsis    string // the arguments after the name, as printed
	Description string
}

// ParseUsage reads the usage text. It fails on text that does not have the
// shape above, so a change to the usage that the man page or completion
// would garble breaks the release, not the user's man page.
func ParseUsage(text string) (Usage, error) {
	var u Usage
	lines := strings.Split(strings.TrimRight(text, "\n"), "\n")
	summary, ok := strings.CutPrefix(lines[0], "hardbake: ")
	if !ok {
		return u, fmt.Errorf("usage: first line %q does not start with \"hardbake: \"", lines[0])
	}
	u.Summary = strings.TrimSuffix(strings.TrimSpace(summary), ".")
	i := 1
	for i < len(lines) && strings.TrimSpace(lines[i]) != "Usage:" {
		i++
	}
	if i == len(lines) {
		return u, fmt.Errorf("usage: no \"Usage:\" line")
	}
	for i++; i < len(lines) && strings.TrimSpace(lines[i]) != ""; i++ {
		line := lines[i]
		if rest, ok := strings.CutPrefix(line, "  hardbake "); ok {
			name, args, _ := strings.Cut(strings.TrimSpace(rest), " ")
			c := Command{Name: name}
			c.add(strings.TrimSpace(args))
			u.Commands = append(u.Commands, c)
			continue
		}
		if len(u.Commands) == 0 || !strings.HasPrefix(line, "   ") {
			return u, fmt.Errorf("usage: line %d %q is neither a command nor its continuation", i+1, line)
		}
		u.Commands[len(u.Commands)-1].add(strings.TrimSpace(line))
	}
	if len(u.Commands) == 0 {
		return u, fmt.Errorf("usage: no commands")
	}
	var para []string
	for ; i <= len(lines); i++ {
		if i == len(lines) || strings.TrimSpace(lines[i]) == "" {
			if len(para) > 0 {
				u.Notes = append(u.Notes, strings.Join(para, " "))
				para = nil
			}
			continue
		}
		para = append(para, strings.TrimSpace(lines[i]))
	}
	return u, nil
}

// gap separates arguments from their description on one line: the usage
// aligns descriptions with three or more spaces.
var gap = regexp.MustCompile(`\s{3,}`)

// add takes one line's part: arguments start with "[" or "-", anything else
// is description; "ARGS   description" splits at the gap.
func (c *Command) add(s string) {
	if s == "" {
		return
	}
	desc := s
	if strings.HasPrefix(s, "[") || strings.HasPrefix(s, "-") {
		parts := gap.Split(s, 2)
		c.Synopsis = strings.TrimSpace(c.Synopsis + " " + parts[0])
		desc = ""
		if len(parts) == 2 {
			desc = parts[1]
		}
	}
	if desc != "" {
		c.Description = strings.TrimSpace(c.Description + " " + desc)
	}
}

// Names are the distinct command names, in usage order.
func (u Usage) Names() []string {
	var names []string
	for _, c := range u.Commands {
		if len(names) == 0 || !contains(names, c.Name) {
			names = append(names, c.Name)
		}
	}
	return names
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
