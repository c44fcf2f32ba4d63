package sshdconfig

import (
	"strings"
	"testing"
)

// FuzzParse: Parse never panics, its Raw lines rebuild the text exactly, and
// the transforms keep their promises on any text.
func FuzzParse(f *testing.F) {
	f.Add("Port 22\n")
	f.Add("PermitRootLogin=no\r\nMatch User a\r\n\tX11Forwarding no")
	f.Add(`Banner "/etc/my banner" # c`)
	f.Add("Banner 'unterminated\n")
	f.Add("\"Port 22\n=Port = = 2\n\f\n")
	f.Fuzz(func(t *testing.T, text string) {
		lines, err := Parse(text)
		if err == nil {
			if got := rebuild(lines, text); got != text {
				t.Fatalf("round trip: %q -> %q", text, got)
			}
			for i, l := range lines {
				if l.Num != i+1 || strings.Contains(l.Raw, "\n") {
					t.Fatalf("bad line %+v", l)
				}
			}
		}
		d := []string{"PermitRootLogin no"}
		once := SetManagedBlock(text, d)
		if twice := SetManagedBlock(once, d); twice != once {
			t.Fatalf("SetManagedBlock not idempotent on %q", text)
		}
		if countMarkers(once, BlockBegin) != 1 || countMarkers(once, BlockEnd) < 1 {
			t.Fatalf("want one block in %q", once)
		}
		if !strings.Contains(text, "hardbake-disabled#") {
			all := make([]int, strings.Count(text, "\n")+1)
			for i := range all {
				all[i] = i + 1
			}
			if back := RestoreDisabled(DisableLines(text, all)); back != text {
				t.Fatalf("disable/restore: %q -> %q", text, back)
			}
		}
	})
}

// FuzzLoad: Load never panics or hangs on any pair of files that include
// each other, the main file, a drop-in directory, or nothing.
func FuzzLoad(f *testing.F) {
	f.Add("Include /etc/ssh/sshd_config.d/*.conf\nPort 22\n", "PasswordAuthentication yes\n")
	f.Add("Include sshd_config.d/*\n", "Include /etc/ssh/sshd_config\n")
	f.Add("Match User x\nInclude sshd_config.d/a.conf\n", "Match all\nPort 1\n")
	f.Add("Subsystem sftp a\nInclude sshd_config.d/a.conf", "Subsystem sftp b")
	f.Add("ListenAddress [::1]:2222\nListenAddress 1.2.3.4/x\nPort 0", "Include \"\"")
	f.Fuzz(func(t *testing.T, main, dropin string) {
		fsys := mapFS{
			mainPath:                         main,
			"/etc/ssh/sshd_config.d/a.conf":  dropin,
			"/etc/ssh/sshd_config.d/.b.conf": main,
		}
		e, err := Load(fsys, mainPath)
		if err != nil {
			return
		}
		for kw, vs := range e.Values {
			if len(vs) == 0 || (len(vs) > 1 && !Accumulates(kw)) {
				t.Fatalf("%s has %d values", kw, len(vs))
			}
		}
		if len(e.Ports()) == 0 {
			t.Fatal("no ports")
		}
	})
}

// countMarkers counts whole lines equal to marker; the marker text inside a
// user's line is not one.
func countMarkers(text, marker string) int {
	n := 0
	for _, l := range splitKeepEOL(text) {
		if isMarker(l, marker) {
			n++
		}
	}
	return n
}
