package ini

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// query is one lookup and its expected answer.
type query struct {
	section, key, want string
	ok                 bool
}

type readCase struct {
	name  string
	text  string
	q     []query
	error bool // the program rejects the file (the reader skips the bad lines)
}

// fail2banCases are read with the Fail2ban dialect and judged against
// Python's configparser configured as fail2ban configures it
// (TestFail2banMatchesConfigparser).
var fail2banCases = []readCase{
	{name: "equals and colon", text: "[sshd]\nenabled = true\nport: 22,2222\n",
		q: []query{{"sshd", "enabled", "true", true}, {"sshd", "port", "22,2222", true}}},
	{name: "comments", text: "# top\n[sshd]\n; semi\n  # indented comment\nport = 22 ; inline\nbackend = systemd;kept\n",
		q: []query{{"sshd", "port", "22", true}, {"sshd", "backend", "systemd;kept", true}}},
	{name: "continuation keeps inner blank lines", text: "[sshd]\nignoreip = 127.0.0.1/8\n    ::1\n\n    10.0.0.0/8\n\nmaxretry = 3\n",
		q: []query{{"sshd", "ignoreip", "127.0.0.1/8\n::1\n\n10.0.0.0/8", true}, {"sshd", "maxretry", "3", true}}},
	{name: "comment inside a continued value", text: "[Definition]\nfailregex = ^a$\n  # not part of it\n  ^b$ ; nor this\n",
		q: []query{{"Definition", "failregex", "^a$\n^b$", true}}},
	{name: "an indented key continues the one before", text: "[a]\nx = 1\n  y = 2\n",
		q: []query{{"a", "x", "1\ny = 2", true}, {"a", "y", "", false}}},
	{name: "later wins, keys ignore case", text: "[sshd]\nPort = 22\nport = 2222\n",
		q: []query{{"sshd", "port", "2222", true}, {"sshd", "PORT", "2222", true}}},
	{name: "DEFAULT is inherited", text: "[DEFAULT]\nbantime = 600\n[sshd]\nport = 22\n",
		q: []query{{"sshd", "bantime", "600", true}, {"sshd", "findtime", "", false}, {"DEFAULT", "bantime", "600", true}}},
	{name: "section names are case-sensitive", text: "[SSHD]\nport = 22\n",
		q: []query{{"sshd", "port", "", false}, {"SSHD", "port", "22", true}}},
	{name: "first delimiter splits", text: "[a]\nurl: http://x=y\nb=c:d\n",
		q: []query{{"a", "url", "http://x=y", true}, {"a", "b", "c:d", true}}},
	{name: "empty values", text: "[a]\nx =\ny = ;comment\n",
		q: []query{{"a", "x", "", true}, {"a", "y", "", true}}},
	{name: "indented header after a header", text: "[a]\n  [b]\nk = 1\n",
		q: []query{{"b", "k", "1", true}, {"a", "k", "", false}}},
	{name: "a header ends a value", text: "[a]\nx = 1\n[b]\n  y = 2\n",
		q: []query{{"a", "x", "1", true}, {"b", "y", "2", true}}},
	{name: "line without delimiter", error: true, text: "[sshd]\nnonsense\nport = 22\n",
		q: []query{{"sshd", "port", "22", true}}},
	{name: "header without a name", error: true, text: "[sshd]\n[]\nport = 22\n",
		q: []query{{"sshd", "port", "22", true}}},
	{name: "text after a header", text: "[sshd] x\nport = 22\n",
		q: []query{{"sshd", "port", "22", true}}},
	{name: "key before any section", error: true, text: "port = 1\n[sshd]\nport = 22\n",
		q: []query{{"sshd", "port", "22", true}}},
}

// dnfCases are read with the DNF dialect and judged against libdnf's own
// ConfigParser (TestDNFMatchesLibdnf).
var dnfCases = []readCase{
	{name: "plain", text: "[commands]\nupgrade_type = security\n",
		q: []query{{"commands", "upgrade_type", "security", true}}},
	{name: "colon is not a delimiter", error: true, text: "[commands]\nupgrade_type: security\nreboot = never\n",
		q: []query{{"commands", "upgrade_type", "", false}, {"commands", "reboot", "never", true}}},
	{name: "semicolon stays in the value", text: "[commands]\nemit_via = stdio ; motd\n",
		q: []query{{"commands", "emit_via", "stdio ; motd", true}}},
	{name: "comments only in column 0", text: "[main]\n# a = 1\n;b = 2\nx = 1\n  # part of x\n",
		q: []query{{"main", "a", "", false}, {"main", "b", "", false}, {"main", "x", "1\n# part of x", true}}},
	{name: "continued value", text: "[main]\nexclude = a\n  b\n\tc\nnext = 1\n",
		q: []query{{"main", "exclude", "a\nb\nc", true}, {"main", "next", "1", true}}},
	{name: "a blank line ends the value", error: true, text: "[main]\nexclude = a\n  b\n\n\tc\n",
		q: []query{{"main", "exclude", "a\nb", true}}},
	{name: "a comment line ends the value", error: true, text: "[main]\nexclude = a\n  b\n#c\n  d\n",
		q: []query{{"main", "exclude", "a\nb", true}}},
	{name: "first equals sign splits", text: "[a]\nx=1=2\ny =\n",
		q: []query{{"a", "x", "1=2", true}, {"a", "y", "", true}}},
	{name: "a repeated section is one section", text: "[a]\nx = 1\n[b]\n[a]\ny = 2\n",
		q: []query{{"a", "x", "1", true}, {"a", "y", "2", true}}},
	{name: "text after a header", error: true, text: "[a] xy\ny = 1\n",
		q: []query{{"a", "y", "", false}}},
	{name: "a header's last character is not checked", text: "[a] x\ny = 1\n[b] ; c\nz = 2\n",
		q: []query{{"a", "y", "1", true}, {"b", "z", "2", true}}},
	{name: "header without its bracket", error: true, text: "[a]\nx = 1\n[b\ny = 2\n",
		q: []query{{"a", "x", "1", true}}},
	{name: "key before any section", error: true, text: "x = 1\n[a]\n",
		q: []query{{"a", "x", "", false}}},
	{name: "an indented header still opens a section", text: "[a]\nx = 1\n  [b]\ny = 2\n",
		q: []query{{"a", "x", "1", true}, {"b", "y", "2", true}, {"a", "y", "", false}}},
	{name: "keys are case-sensitive", text: "[commands]\nReboot = never\n",
		q: []query{{"commands", "reboot", "", false}, {"commands", "Reboot", "never", true}}},
	{name: "later wins", text: "[a]\nx = 1\nx = 2\n",
		q: []query{{"a", "x", "2", true}}},
	{name: "no DEFAULT inheritance", text: "[DEFAULT]\nx = 1\n[a]\n",
		q: []query{{"a", "x", "", false}, {"DEFAULT", "x", "1", true}}},
	{name: "byte order mark and CRLF", text: "\ufeff[a]\r\nx = 1\r\n",
		q: []query{{"a", "x", "1", true}}},
	{name: "header with a trailing comment", text: "[commands] # what to do\nx = 1\n",
		q: []query{{"commands", "x", "1", true}}},
	{name: "indented line with nothing to continue", error: true, text: "[a]\n  x = 1\ny = 2\n",
		q: []query{{"a", "x", "", false}, {"a", "y", "2", true}}},
}

func TestGet(t *testing.T) {
	for _, d := range []struct {
		name    string
		dialect Dialect
		cases   []readCase
	}{{"fail2ban", Fail2ban, fail2banCases}, {"dnf", DNF, dnfCases}} {
		for _, c := range d.cases {
			f := Parse(c.text, d.dialect)
			if refused := len(f.bad) > 0; refused != c.error {
				t.Errorf("%s %s: lines refused %v; the case says the file is refused: %v", d.name, c.name, f.bad, c.error)
			}
			for _, q := range c.q {
				if got, ok := f.Get(q.section, q.key); got != q.want || ok != q.ok {
					t.Errorf("%s %s: Get(%q, %q) = %q, %v; want %q, %v", d.name, c.name, q.section, q.key, got, ok, q.want, q.ok)
				}
			}
		}
	}
}

// TestFail2banMatchesConfigparser judges the Fail2ban dialect against the
// real reader: Python's configparser with fail2ban's settings (no
// interpolation asked for here; strict off so a repeated key is read the
// way fail2ban merges its files: the later one wins).
func TestFail2banMatchesConfigparser(t *testing.T) {
	python, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 not installed")
	}
	judge(t, python, Fail2ban, fail2banCases, `import configparser
def read(text):
    cp = configparser.ConfigParser(interpolation=None, inline_comment_prefixes=";", strict=False)
    try:
        cp.read_string(text)
    except configparser.Error:
        return cp, True
    return cp, False
def get(cp, section, key):
    if (section == "DEFAULT" or cp.has_section(section)) and cp.has_option(section, key):
        return cp.get(section, key), True
    return "", False
`)
}

// TestDNFMatchesLibdnf judges the DNF dialect against libdnf's own
// ConfigParser (Debian's python3-libdnf: libdnf 0.69.0, as on RHEL 9).
func TestDNFMatchesLibdnf(t *testing.T) {
	const python = "/usr/bin/python3" // the interpreter Debian's python3-libdnf is built for
	if err := exec.Command(python, "-c", "import libdnf").Run(); err != nil {
		t.Skip("python3-libdnf not installed")
	}
	judge(t, python, DNF, dnfCases, `import libdnf
def read(text):
    p = libdnf.conf.ConfigParser()
    try:
        p.readString(text)
    except RuntimeError:
        return p, True
    return p, False
def get(p, section, key):
    if p.hasSection(section) and p.hasOption(section, key):
        return p.getValue(section, key), True
    return "", False
`)
}

// judge runs python with reader (defining read(text) -> (parser, rejected)
// and get(parser, section, key) -> (value, ok)) over cases and compares:
// whether the program rejects each file, and for the files it accepts,
// every lookup. (A rejected file is not read on: its values are moot.)
func judge(t *testing.T, python string, d Dialect, cases []readCase, reader string) {
	t.Helper()
	type pyCase struct {
		Text    string      `json:"text"`
		Queries [][2]string `json:"queries"`
	}
	var in []pyCase
	for _, c := range cases {
		p := pyCase{Text: c.text}
		for _, q := range c.q {
			p.Queries = append(p.Queries, [2]string{q.section, q.key})
		}
		in = append(in, p)
	}
	script := filepath.Join(t.TempDir(), "judge.py")
	os.WriteFile(script, []byte(reader+`
import json, sys
out = []
for c in json.load(sys.stdin):
    p, rejected = read(c["text"])
    out.append({"rejected": rejected, "answers": [get(p, s, k) for s, k in c["queries"]]})
json.dump(out, sys.stdout)
`), 0o644)
	data, _ := json.Marshal(in)
	cmd := exec.Command(python, script)
	cmd.Stdin = strings.NewReader(string(data))
	res, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %s: %v", python, script, err)
	}
	var got []struct {
		Rejected bool    `json:"rejected"`
		Answers  [][]any `json:"answers"`
	}
	if err := json.Unmarshal(res, &got); err != nil {
		t.Fatalf("%v: %s", err, res)
	}
	for i, c := range cases {
		f := Parse(c.text, d)
		if refused := len(f.bad) > 0; got[i].Rejected != refused {
			t.Errorf("%s: the program refuses the file: %v; Parse refused lines %v", c.name, got[i].Rejected, f.bad)
		}
		if c.error {
			continue
		}
		for j, q := range c.q {
			want, wantOK := got[i].Answers[j][0].(string), got[i].Answers[j][1].(bool)
			if v, ok := f.Get(q.section, q.key); v != want || ok != wantOK {
				t.Errorf("%s: Get(%q, %q) = %q, %v; the program reads %q, %v", c.name, q.section, q.key, v, ok, want, wantOK)
			}
		}
	}
}

func TestSet(t *testing.T) {
	cases := []struct {
		name    string
		dialect Dialect
		in      string
		key     string
		want    string
	}{
		{"replace", DNF, "[commands]\nupgrade_type = default\n", "upgrade_type",
			"[commands]\nupgrade_type = security\n"},
		{"commented-out key reused in place", DNF, "[commands]\n# upgrade_type = default\nx = 1\n", "upgrade_type",
			"[commands]\nupgrade_type = security\nx = 1\n"},
		{"added after the section's last key", DNF, "[commands]\nx = 1\n\n[emitters]\ny = 2\n", "upgrade_type",
			"[commands]\nx = 1\nupgrade_type = security\n\n[emitters]\ny = 2\n"},
		{"missing section appended", DNF, "[emitters]\ny = 2\n", "upgrade_type",
			"[emitters]\ny = 2\n\n[commands]\nupgrade_type = security\n"},
		{"missing section after a blank line", DNF, "[emitters]\ny = 2\n\n", "upgrade_type",
			"[emitters]\ny = 2\n\n[commands]\nupgrade_type = security\n"},
		{"empty file", DNF, "", "upgrade_type",
			"[commands]\nupgrade_type = security\n"},
		{"continuation lines go with the old value", DNF, "[commands]\nupgrade_type = a\n  b\nx = 1\n", "upgrade_type",
			"[commands]\nupgrade_type = security\nx = 1\n"},
		{"added after a continued key", DNF, "[commands]\nx = a\n  b\n# doc of the next section\n[emitters]\n", "upgrade_type",
			"[commands]\nx = a\n  b\nupgrade_type = security\n# doc of the next section\n[emitters]\n"},
		{"the winning duplicate is the one replaced", DNF, "[commands]\nupgrade_type = a\nupgrade_type = b\n", "upgrade_type",
			"[commands]\nupgrade_type = a\nupgrade_type = security\n"},
		{"comments and order kept", DNF, "# head\n[commands]\n# what to apply\nupgrade_type = default ; dnf keeps this\n# tail\n[base]\ndebuglevel = 1\n", "upgrade_type",
			"# head\n[commands]\n# what to apply\nupgrade_type = security\n# tail\n[base]\ndebuglevel = 1\n"},
		{"the section's last occurrence gets a new key", DNF, "[commands]\nx = 1\n[base]\n[commands]\ny = 2\n\n", "upgrade_type",
			"[commands]\nx = 1\n[base]\n[commands]\ny = 2\nupgrade_type = security\n\n"},
		{"a key in another section is not it", DNF, "[base]\nupgrade_type = default\n[commands]\n", "upgrade_type",
			"[base]\nupgrade_type = default\n[commands]\nupgrade_type = security\n"},
		{"configparser key of another case", Fail2ban, "[commands]\nUpgrade_Type: default\n", "upgrade_type",
			"[commands]\nupgrade_type = security\n"},
		{"dnf keys of another case are other keys", DNF, "[commands]\nUpgrade_Type = default\n", "upgrade_type",
			"[commands]\nUpgrade_Type = default\nupgrade_type = security\n"},
		{"a comment inside a value is not reused", Fail2ban, "[commands]\nx = a\n#upgrade_type = b\n\n  c\n", "upgrade_type",
			"[commands]\nx = a\n#upgrade_type = b\n\n  c\nupgrade_type = security\n"},
		{"an indented comment is not reused", Fail2ban, "[commands]\nx = 1\n  #upgrade_type = a\n", "upgrade_type",
			"[commands]\nx = 1\nupgrade_type = security\n  #upgrade_type = a\n"},
	}
	for _, c := range cases {
		got := Set(c.in, c.dialect, "commands", c.key, "security")
		if got != c.want {
			t.Errorf("%s: Set(%q) =\n%q, want\n%q", c.name, c.in, got, c.want)
		}
		if v, ok := Parse(got, c.dialect).Get("commands", c.key); v != "security" || !ok {
			t.Errorf("%s: after Set the file reads %q, %v", c.name, v, ok)
		}
		if again := Set(got, c.dialect, "commands", c.key, "security"); again != got {
			t.Errorf("%s: a second Set changed the file:\n%q", c.name, again)
		}
	}
}

func TestMentions(t *testing.T) {
	f := Parse("[commands]\n#reboot = never\n# never   = don't reboot\napply_updates = no\n[emitters]\nsystem_name = x\n", DNF)
	for _, c := range []struct {
		section, key string
		want         bool
	}{
		{"commands", "reboot", true},
		{"commands", "apply_updates", true},
		{"commands", "system_name", false},
		{"emitters", "reboot", false},
		{"commands", "when", false},
	} {
		if got := f.Mentions(c.section, c.key); got != c.want {
			t.Errorf("Mentions(%q, %q) = %v, want %v", c.section, c.key, got, c.want)
		}
	}
	if _, ok := f.Get("commands", "reboot"); ok {
		t.Error("a commented-out key reads as set")
	}
}
