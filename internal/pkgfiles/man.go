package pkgfiles

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"strings"
)

// File is a path the packages install, for the man page's FILES section.
type File struct {
	Path, About string
}

// ManPage is hardbake(1) in roff: NAME and COMMANDS from the usage text,
// the notes (exit codes) as EXIT STATUS, then the files the package
// installs. date (YYYY-MM-DD) is the release's, so the page is the same for
// the same release.
func ManPage(u Usage, version, date string, files []File) string {
	var b strings.Builder
	fmt.Fprintf(&b, ".TH HARDBAKE 1 %q %q \"User Commands\"\n", date, "hardbake "+version)
	b.WriteString(".SH NAME\nhardbake \\- " + roff(u.Summary) + "\n")
	b.WriteString(".SH SYNOPSIS\n.B hardbake\n.I command\n.RI [ flags ]\n")
	b.WriteString(".SH DESCRIPTION\n" + roff(upperFirst(u.Summary)) + ".\n" +
		"Each command lists its flags with \\fBhardbake\\fR \\fIcommand\\fR \\fB\\-h\\fR.\n")
	b.WriteString(".SH COMMANDS\n")
	for _, c := range u.Commands {
		b.WriteString(".TP\n\\fBhardbake " + roff(c.Name) + "\\fR")
		if c.Synopsis != "" {
			b.WriteString(" " + roff(c.Synopsis))
		}
		b.WriteString("\n")
		if c.Description != "" {
			b.WriteString(roff(c.Description) + "\n")
		}
	}
	if len(u.Notes) > 0 {
		b.WriteString(".SH EXIT STATUS\n")
		for i, n := range u.Notes {
			if i > 0 {
				b.WriteString(".PP\n")
			}
			b.WriteString(roff(n) + "\n")
		}
	}
	if len(files) > 0 {
		b.WriteString(".SH FILES\n")
		for _, f := range files {
			b.WriteString(".TP\n.I " + roff(f.Path) + "\n" + roff(f.About) + "\n")
		}
	}
	b.WriteString(".SH SEE ALSO\n.BR sshd (8),\n.BR systemd.service (5),\n.BR packer (1)\n")
	return b.String()
}

// roff escapes text for a roff line: backslashes, minus signs (a plain "-"
// is a hyphen, which breaks copying flags from the page), and a leading
// control character.
func roff(s string) string {
	s = strings.ReplaceAll(s, `\`, `\e`)
	s = strings.ReplaceAll(s, "-", `\-`)
	if strings.HasPrefix(s, ".") || strings.HasPrefix(s, "'") {
		s = `\&` + s
	}
	return s
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// Gzip compresses at the best level with no name and no time in the header,
// as Debian wants man pages (and so the same page gives the same bytes).
func Gzip(data []byte) ([]byte, error) {
	var buf bytes.Buffer
	w, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		return nil, err
	}
	if _, err := w.Write(data); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
