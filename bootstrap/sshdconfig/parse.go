package sshdconfig

import (
	"strings"
)

// Line is one line of one file, with sshd's reading of it.
type Line struct {
	Num     int      // 1-based
	Raw     string   // original text without the trailing "\n" (a "\r" of CRLF stays, so Raw joined by "\n" is the file)
	Keyword string   // lower-cased keyword, "" for blank/comment lines
	Args    []string // unquoted arguments (handles "quoted args", key=value and key = value forms)
	Match   int      // 0 outside Match blocks; otherwise the 1-based index of the Match block in this file (a Match line carries its own index)
}

// Parse splits one file into lines. Errors are *ParseError naming the line.
// Lines are counted as a text editor counts them: a final newline does not
// start another line, so "a\n" is one line.
//
// Match context here is per file, as in sshd: everything after a Match line
// belongs to it until the next Match or the end of this file. Include is not
// followed; Load does that.
func Parse(text string) ([]Line, error) {
	lines := make([]Line, 0, strings.Count(text, "\n")+1)
	match := 0
	for raw := range strings.Lines(text) {
		num := len(lines) + 1
		raw = strings.TrimSuffix(raw, "\n")
		kw, args, err := splitLine(raw)
		if err != nil {
			return nil, &ParseError{Line: num, Err: err}
		}
		if kw == "match" {
			match++
		}
		lines = append(lines, Line{Num: num, Raw: raw, Keyword: kw, Args: args, Match: match})
	}
	return lines, nil
}
