// Package ini reads and edits the INI files of fail2ban (Python's
// configparser) and dnf (libdnf's INI parser) the way those programs read
// them, so a check sees the value the tool will use and an edit keeps every
// other line, comment and order of someone else's file.
//
// The two readers agree on the basics: "[section]" headers, "key = value",
// comment lines starting with "#" or ";", values continued on indented
// lines, the later of two equal keys wins. They differ in a few rules, which
// a Dialect names; Fail2ban and DNF are the two this project needs.
package ini

import (
	"strings"
)

// Dialect is how one program reads an INI file.
type Dialect struct {
	// Colon: "key: value" is read like "key = value" (configparser's
	// default delimiters are "=" and ":"; libdnf knows only "=").
	Colon bool
	// InlineComments: a ";" at the start of a line or after whitespace
	// ends the value (fail2ban sets configparser's
	// inline_comment_prefixes=";"; libdnf keeps it in the value).
	InlineComments bool
	// FoldCase: key names compare case-insensitively (configparser
	// lower-cases every key; libdnf compares them as written). Section
	// names are case-sensitive in both.
	FoldCase bool
	// Indented: configparser's layout. Comment, key and section lines may
	// be indented; a line continues a value only when it is indented deeper
	// than its key; an indented "#" line is still a comment; blank and
	// comment lines inside a value do not end it (blank ones are kept).
	// Without it, libdnf's (0.69, RHEL 9's): comments and keys start in
	// column 0, every indented line right after a key continues its value
	// (an indented "#" line too), a blank or comment line ends the value,
	// and an indented "[" still opens a section.
	Indented bool
	// Defaults names the section whose keys every other section inherits
	// (configparser's "DEFAULT"; libdnf has none).
	Defaults string
}

// Fail2ban is fail2ban's reader: configparser with ";" inline comments
// (fail2ban/client/configparserinc.py).
var Fail2ban = Dialect{Colon: true, InlineComments: true, FoldCase: true, Indented: true, Defaults: "DEFAULT"}

// DNF is libdnf's reader (libdnf/utils/iniparser), which dnf and
// dnf-automatic read their .conf files with.
var DNF = Dialect{}

// File is a parsed INI text: its lines as they were, and where each key and
// section header is.
type File struct {
	dialect Dialect
	lines   []string
	keys    []key
	headers []header
	bad     []int // lines (from 1) the program refuses; Parse skips them
}

// key is one "key = value" (lines first..last, continuation lines
// included), or a commented-out one ("#key = value" in column 0), which
// Set reuses so the key lands where the file documents it.
type key struct {
	section, name, value string
	first, last          int
	commented            bool
}

type header struct {
	name string
	line int
}

// Parse reads text. A line the dialect's program refuses (text before any
// section, a line without a delimiter, a header without its "]") is
// skipped: the program's own check (fail2ban-client -t, dnf) is what
// reports such a file, and refuses all of it.
func Parse(text string, d Dialect) *File {
	text = strings.TrimPrefix(text, "\ufeff")
	f := &File{dialect: d, lines: strings.Split(strings.TrimSuffix(text, "\n"), "\n")}
	if text == "" {
		f.lines = nil
	}
	section := ""
	open, openIndent := -1, 0 // the key (index in f.keys) a continuation line extends, and its indent
	blanks := 0               // blank lines seen inside an open value (configparser keeps them)
	for i, raw := range f.lines {
		line := strings.TrimSuffix(raw, "\r")
		content, comment := d.strip(line)
		if content == "" {
			if !d.Indented {
				open = -1 // libdnf: a blank or comment line ends a value
			} else if !comment && open >= 0 {
				blanks++
			}
			if comment && section != "" && !indented(line) {
				if k, ok := d.commentedKey(line); ok {
					k.section, k.first, k.last = section, i, i
					f.keys = append(f.keys, k)
				}
			}
			continue
		}
		indent := len(line) - len(strings.TrimLeft(line, " \t"))
		if open >= 0 && indent > openIndent && (d.Indented || content[0] != '[') {
			k := &f.keys[open]
			k.value += strings.Repeat("\n", blanks+1) + content
			k.last = i
			blanks = 0
			continue
		}
		open, blanks = -1, 0
		if content[0] == '[' {
			if name, ok := d.header(content); ok {
				section = name
				f.headers = append(f.headers, header{section, i})
			} else {
				f.bad = append(f.bad, i+1)
			}
			continue
		}
		if section == "" || (!d.Indented && indent > 0) {
			// Before any section, or (libdnf) an indented line with no
			// value to continue.
			f.bad = append(f.bad, i+1)
			continue
		}
		name, value, ok := d.cut(content)
		if !ok || name == "" {
			f.bad = append(f.bad, i+1)
			continue
		}
		f.keys = append(f.keys, key{section: section, name: name, value: value, first: i, last: i})
		open, openIndent = len(f.keys)-1, indent
	}
	return f
}

// strip returns line without comments and surrounding blanks, and whether
// the line held a comment.
func (d Dialect) strip(line string) (content string, comment bool) {
	t := strings.TrimSpace(line)
	if d.Indented && (strings.HasPrefix(t, "#") || strings.HasPrefix(t, ";")) {
		return "", true
	}
	if !d.Indented && (strings.HasPrefix(line, "#") || strings.HasPrefix(line, ";")) {
		return "", true
	}
	if d.InlineComments {
		for i := 0; i < len(line); i++ {
			if line[i] == ';' && (i == 0 || line[i-1] == ' ' || line[i-1] == '\t') {
				return strings.TrimSpace(line[:i]), true
			}
		}
	}
	return t, false
}

// header reads a "[section]" line (comments already stripped where the
// dialect strips them). configparser takes the name up to the last "]" and
// ignores what follows; libdnf takes it up to the first "]" and refuses
// text after it other than blanks and a comment, except in the line's last
// character, which its check does not reach ("[a] x" is read as [a]).
func (d Dialect) header(content string) (string, bool) {
	end := strings.LastIndexByte(content, ']')
	if !d.Indented {
		end = strings.IndexByte(content, ']')
		rest := content[end+1:]
		for i := 0; end > 0 && i < len(rest)-1 && rest[i] != '#' && rest[i] != ';'; i++ {
			if rest[i] != ' ' && rest[i] != '\t' {
				return "", false
			}
		}
	}
	if end <= 1 {
		return "", false
	}
	return content[1:end], true
}

// cut splits "key = value" at the first delimiter.
func (d Dialect) cut(content string) (name, value string, ok bool) {
	delims := "="
	if d.Colon {
		delims = "=:"
	}
	at := strings.IndexAny(content, delims)
	if at < 0 {
		return "", "", false
	}
	return strings.TrimSpace(content[:at]), strings.TrimSpace(content[at+1:]), true
}

// commentedKey reads "#key = value" (or ";key = value", "# key = value").
func (d Dialect) commentedKey(line string) (key, bool) {
	name, value, ok := d.cut(strings.TrimLeft(line, "#; \t"))
	if !ok || name == "" || strings.ContainsAny(name, " \t") {
		return key{}, false
	}
	return key{name: name, value: value, commented: true}, true
}

// indented: the line starts with a blank (a commented-out key Set may reuse
// starts in column 0, so it never sits inside another key's value).
func indented(line string) bool { return line != "" && (line[0] == ' ' || line[0] == '\t') }

func (d Dialect) same(a, b string) bool {
	if d.FoldCase {
		return strings.EqualFold(a, b)
	}
	return a == b
}

// find returns the index in f.keys of the key that wins: the last one set
// in section (or -1).
func (f *File) find(section, name string) int {
	for i := len(f.keys) - 1; i >= 0; i-- {
		k := f.keys[i]
		if !k.commented && k.section == section && f.dialect.same(k.name, name) {
			return i
		}
	}
	return -1
}

// Get returns the value the program uses for key in section: the last one
// set there, else the dialect's Defaults section's; ok is false when none
// sets it.
func (f *File) Get(section, name string) (value string, ok bool) {
	if i := f.find(section, name); i >= 0 {
		return f.keys[i].value, true
	}
	if d := f.dialect.Defaults; d != "" && section != d {
		if i := f.find(d, name); i >= 0 {
			return f.keys[i].value, true
		}
	}
	return "", false
}

// Value is Get without ok: "" when unset.
func (f *File) Value(section, name string) string {
	v, _ := f.Get(section, name)
	return v
}

// Mentions reports whether section sets key or names it in a commented-out
// "#key = value" line (a shipped file documenting an option it knows).
func (f *File) Mentions(section, name string) bool {
	for _, k := range f.keys {
		if k.section == section && f.dialect.same(k.name, name) {
			return true
		}
	}
	return false
}

// Set returns text with "key = value" in section, every other line kept as
// it was: the line (and continuation lines) of the key that wins is
// replaced; else the first commented-out "#key = ..." line of the section
// (where the file documents it); else the key is added after the section's
// last key; a missing section is appended at the end.
func Set(text string, d Dialect, section, name, value string) string {
	f := Parse(text, d)
	want := name + " = " + value
	lines := f.lines
	if i := f.find(section, name); i >= 0 {
		k := f.keys[i]
		return join(lines[:k.first], []string{want}, lines[k.last+1:])
	}
	for _, k := range f.keys {
		if k.commented && k.section == section && d.same(k.name, name) && !f.continued(k.first) {
			return join(lines[:k.first], []string{want}, lines[k.first+1:])
		}
	}
	head := -1 // the section's last header: keys are added to that occurrence
	for _, h := range f.headers {
		if h.name == section {
			head = h.line
		}
	}
	if head < 0 {
		if len(lines) > 0 && strings.TrimSpace(lines[len(lines)-1]) != "" {
			lines = append(lines, "")
		}
		return join(lines, []string{"[" + section + "]", want})
	}
	at := head // the line to insert after: the header, or the occurrence's last key
	for _, k := range f.keys {
		if !k.commented && k.first > head && f.sectionAt(k.first) == head {
			at = k.last
		}
	}
	return join(lines[:at+1], []string{want}, lines[at+1:])
}

// continued reports whether the first line after line that is not blank or
// a comment is indented: a key written at line would take it as its own
// continuation, stealing it from the value it belongs to now.
func (f *File) continued(line int) bool {
	for _, l := range f.lines[line+1:] {
		l = strings.TrimSuffix(l, "\r")
		if content, _ := f.dialect.strip(l); content != "" {
			return indented(l)
		}
	}
	return false
}

// sectionAt is the header line of the section occurrence holding line.
func (f *File) sectionAt(line int) int {
	at := -1
	for _, h := range f.headers {
		if h.line < line {
			at = h.line
		}
	}
	return at
}

func join(parts ...[]string) string {
	var all []string
	for _, p := range parts {
		all = append(all, p...)
	}
	return strings.Join(all, "\n") + "\n"
}
