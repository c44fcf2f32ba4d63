package sshdconfig

import (
	"slices"
	"strings"
)

// The managed block markers. Everything hardbake adds to a file it does not
// own sits between them, so a re-run replaces its own lines instead of
// appending a second copy.
const (
	BlockBegin = "# BEGIN hardbake managed block - do not edit, hardbake rewrites it"
	BlockEnd   = "# END hardbake managed block"
)

// SetManagedBlock returns text with exactly one managed block holding
// directives (lines like "PermitRootLogin no"), or none if directives is empty.
//
// The block goes before the first directive, Include or Match — after any
// leading comments and blank lines, so a file's header stays on top — because
// sshd keeps the first value it reads: only lines above the user's own, and
// above any Include of drop-ins such as cloud-init's 50-cloud-init.conf, are
// sure to win. Directives must be global ones: a "Match" line in the block
// would capture every user line below it.
//
// Every existing block is removed first. A BEGIN marker without its END is
// dropped on its own and the lines after it are kept, since they can no
// longer be told apart from the user's. All other lines are kept byte for
// byte, and the result keeps the file's line ending (LF or CRLF). The
// transform is idempotent.
func SetManagedBlock(text string, directives []string) string {
	lines := removeBlocks(splitKeepEOL(text))
	block := blockLines(directives)
	if len(block) == 0 {
		return strings.Join(lines, "")
	}
	eol := lineEnding(lines)
	at := firstDirective(lines)
	if at == len(lines) && at > 0 && !strings.HasSuffix(lines[at-1], "\n") {
		// Appending after a last line that had no newline: end it first. If
		// that line is the first one, it now decides the line ending, as it
		// will on the next run.
		lines[at-1] += eol
		eol = lineEnding(lines)
	}
	out := make([]string, 0, len(lines)+len(block))
	out = append(out, lines[:at]...)
	for _, b := range block {
		out = append(out, b+eol)
	}
	out = append(out, lines[at:]...)
	return strings.Join(out, "")
}

// blockLines is the block's text lines, markers included; nil when there is
// nothing to manage. Embedded newlines are split so that the block is always
// whole lines.
func blockLines(directives []string) []string {
	var body []string
	for _, d := range directives {
		for _, l := range strings.Split(strings.ReplaceAll(d, "\r\n", "\n"), "\n") {
			l = strings.TrimRight(l, " \t\r")
			if l != "" && !isMarker(l, BlockBegin) && !isMarker(l, BlockEnd) {
				body = append(body, l)
			}
		}
	}
	if len(body) == 0 {
		return nil
	}
	return append(append([]string{BlockBegin}, body...), BlockEnd)
}

// removeBlocks drops every BEGIN..END block.
func removeBlocks(lines []string) []string {
	out := lines[:0:0]
	for i := 0; i < len(lines); i++ {
		if !isMarker(lines[i], BlockBegin) {
			out = append(out, lines[i])
			continue
		}
		end := -1
		for j := i + 1; j < len(lines); j++ {
			if isMarker(lines[j], BlockEnd) {
				end = j
				break
			}
			if isMarker(lines[j], BlockBegin) {
				break
			}
		}
		if end >= 0 {
			i = end
		}
	}
	return out
}

// isMarker compares a line with a marker, ignoring its line ending and
// surrounding blanks an editor may have added.
func isMarker(line, marker string) bool {
	return strings.TrimSpace(line) == marker
}

// firstDirective is the index of the first line sshd reads as a directive,
// len(lines) if there is none.
func firstDirective(lines []string) int {
	for i, l := range lines {
		kw, _, err := splitLine(strings.TrimSuffix(l, "\n"))
		if kw != "" || err != nil {
			return i
		}
	}
	return len(lines)
}

// splitKeepEOL splits text into lines that keep their "\n"; like Parse, it
// starts no line after a final newline.
func splitKeepEOL(text string) []string {
	return slices.Collect(strings.Lines(text))
}

// lineEnding is the file's line ending, judged by its first line once our
// old block is gone, so that a re-run picks the same one.
func lineEnding(lines []string) string {
	if len(lines) > 0 && strings.HasSuffix(lines[0], "\r\n") {
		return "\r\n"
	}
	return "\n"
}
