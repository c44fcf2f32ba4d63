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
//
// Match context here is per file, as in sshd: everything after a Match line
// belongs to it until the next Match or the end of this file. Include is not
// followed; Load does that.
func Parse(text string) ([]Line, error) {
	raws := splitRaw(text)
	lines := make([]Line, 0, len(raws))
	match := 0
	for i, raw := range raws {
		kw, args, err := splitLine(raw)
		if err != nil {
			return nil, &ParseError{Line: i + 1, Err: err}
		}
		if kw == "match" {
			match++
		}
		lines = append(lines, Line{Num: i + 1, Raw: raw, Keyword: kw, Args: args, Match: match})
	}
	return lines, nil
}

// splitRaw splits text into lines without their "\n". A final newline does not
// start another line, so "a\n" is one line, like a text editor counts.
func splitRaw(text string) []string {
	if text == "" {
		return nil
	}
	raws := strings.Split(text, "\n")
	if raws[len(raws)-1] == "" {
		raws = raws[:len(raws)-1]
	}
	return raws
}
