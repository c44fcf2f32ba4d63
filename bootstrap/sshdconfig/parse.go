package sshdconfig

import (
	"slices"
	"strings"
	"sync"
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

// parsed remembers Parse's answers for Load: a first boot or a bake loads
// the same few files many times (plan, overlay, check, the fingerprint of
// what sshd reads), and the parse is a pure function of the text. The lines
// are shared, so Load only reads them, and every Args is clipped: an append
// by a caller copies instead of writing into another's view.
var parsed struct {
	sync.Mutex
	lines map[string][]Line
}

// parseCached is Parse through parsed (successful parses only; at most 64
// texts, then it starts over).
func parseCached(text string) ([]Line, error) {
	parsed.Lock()
	lines, ok := parsed.lines[text]
	parsed.Unlock()
	if ok {
		return lines, nil
	}
	lines, err := Parse(text)
	if err != nil {
		return nil, err
	}
	for i := range lines {
		lines[i].Args = slices.Clip(lines[i].Args)
	}
	parsed.Lock()
	if parsed.lines == nil || len(parsed.lines) >= 64 {
		parsed.lines = map[string][]Line{}
	}
	parsed.lines[text] = lines
	parsed.Unlock()
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
