package sshdconfig

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestParseLine(t *testing.T) {
	tests := []struct {
		name    string
		raw     string
		keyword string
		args    []string
	}{
		{"plain", "PermitRootLogin no", "permitrootlogin", []string{"no"}},
		{"case-insensitive keyword", "pErMiTrOoTlOgIn No", "permitrootlogin", []string{"No"}},
		{"key=value", "Port=2222", "port", []string{"2222"}},
		{"key = value", "Port = 2222", "port", []string{"2222"}},
		{"key =value", "Port =2222", "port", []string{"2222"}},
		{"key= value", "Port= 2222", "port", []string{"2222"}},
		{"only one equals is a separator", "Port==2222", "port", []string{"=2222"}},
		{"tabs", "\tAcceptEnv\tLANG\tLC_*", "acceptenv", []string{"LANG", "LC_*"}},
		{"leading spaces", "   X11Forwarding yes", "x11forwarding", []string{"yes"}},
		{"CRLF", "PasswordAuthentication no\r", "passwordauthentication", []string{"no"}},
		{"trailing blanks and form feed", "Port 22 \t\f", "port", []string{"22"}},
		{"double quotes", `Banner "/etc/my banner"`, "banner", []string{"/etc/my banner"}},
		{"single quotes", `Banner '/etc/my banner'`, "banner", []string{"/etc/my banner"}},
		{"quotes mid-token", `AuthorizedKeysFile a"b c"d`, "authorizedkeysfile", []string{"ab cd"}},
		{"empty quoted arg", `Include ""`, "include", []string{""}},
		{"escaped quote", `Banner "a\"b"`, "banner", []string{`a"b`}},
		{"escaped space", `Banner a\ b`, "banner", []string{"a b"}},
		{"unknown escape kept", `Banner a\nb`, "banner", []string{`a\nb`}},
		{"trailing comment", "Port 22 # the usual", "port", []string{"22"}},
		{"hash inside token is not a comment", "PermitRootLogin no#x", "permitrootlogin", []string{"no#x"}},
		{"quoted hash is not a comment", `Banner "#x"`, "banner", []string{"#x"}},
		{"multiple args", "AuthorizedKeysFile .ssh/authorized_keys .ssh/authorized_keys2", "authorizedkeysfile", []string{".ssh/authorized_keys", ".ssh/authorized_keys2"}},
		{"comment", "# PermitRootLogin yes", "", nil},
		{"indented comment", "  \t#Port 22", "", nil},
		{"blank", "", "", nil},
		{"whitespace only", " \t\r", "", nil},
		{"quoted keyword", `"Port" 22`, "port", []string{"22"}},
		{"unterminated quote in keyword is ignored like sshd", `"Port 22`, "", nil},
		{"leading equals", "=Port 22", "port", []string{"22"}},
		{"match", "Match User alice,bob Address 10.0.0.0/8", "match", []string{"User", "alice,bob", "Address", "10.0.0.0/8"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lines, err := Parse(tt.raw)
			if err != nil {
				t.Fatal(err)
			}
			if tt.raw == "" {
				if len(lines) != 0 {
					t.Fatalf("empty text gave %d lines", len(lines))
				}
				return
			}
			if len(lines) != 1 {
				t.Fatalf("got %d lines", len(lines))
			}
			l := lines[0]
			if l.Raw != tt.raw || l.Num != 1 {
				t.Errorf("Raw/Num = %q/%d", l.Raw, l.Num)
			}
			if l.Keyword != tt.keyword || !reflect.DeepEqual(l.Args, tt.args) {
				t.Errorf("got %q %q, want %q %q", l.Keyword, l.Args, tt.keyword, tt.args)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name string
		text string
		line int
		err  error
	}{
		{"unterminated double quote", "Port 22\n\nBanner \"/etc/x\n", 3, ErrQuote},
		{"unterminated single quote", "Banner '/etc/x", 1, ErrQuote},
		{"keyword without argument", "# c\nPermitRootLogin\n", 2, ErrNoArgument},
		{"keyword with only a comment", "PermitRootLogin # no", 1, nil},
		{"match without criteria", "Match\n", 1, ErrNoArgument},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(tt.text)
			if tt.err == nil {
				// sshd accepts the line syntactically (args empty after the comment).
				if err != nil {
					t.Fatalf("unexpected error %v", err)
				}
				return
			}
			var pe *ParseError
			if !errors.As(err, &pe) || pe.Line != tt.line || !errors.Is(err, tt.err) {
				t.Fatalf("err = %v, want line %d: %v", err, tt.line, tt.err)
			}
			if !strings.Contains(err.Error(), "line ") {
				t.Errorf("error %q does not name the line", err)
			}
		})
	}
}

func TestParseMatchBlocks(t *testing.T) {
	text := "Port 22\r\n" +
		"Match User a\r\n" +
		"  PasswordAuthentication yes\r\n" +
		"\r\n" +
		"Match all\r\n" +
		"  X11Forwarding no\r\n" +
		"Match Group admins" // trailing Match, no final newline
	lines, err := Parse(text)
	if err != nil {
		t.Fatal(err)
	}
	var got []int
	var raws []string
	for _, l := range lines {
		got = append(got, l.Match)
		raws = append(raws, l.Raw)
	}
	if want := []int{0, 1, 1, 1, 2, 2, 3}; !reflect.DeepEqual(got, want) {
		t.Errorf("Match = %v, want %v", got, want)
	}
	if strings.Join(raws, "\n") != text {
		t.Errorf("Raw lines do not rebuild the text")
	}
	if last := lines[len(lines)-1]; last.Keyword != "match" || !reflect.DeepEqual(last.Args, []string{"Group", "admins"}) {
		t.Errorf("trailing Match = %+v", last)
	}
}

func TestParseTrailingNewline(t *testing.T) {
	for _, text := range []string{"Port 22\n", "Port 22", "Port 22\n\n", "\n"} {
		lines, err := Parse(text)
		if err != nil {
			t.Fatal(err)
		}
		if got := rebuild(lines, text); got != text {
			t.Errorf("rebuild(%q) = %q", text, got)
		}
	}
}

// rebuild joins Raw lines the way Parse documents: "\n" between lines, plus the
// final newline the text had.
func rebuild(lines []Line, text string) string {
	var raws []string
	for _, l := range lines {
		raws = append(raws, l.Raw)
	}
	s := strings.Join(raws, "\n")
	if strings.HasSuffix(text, "\n") {
		s += "\n"
	}
	return s
}
