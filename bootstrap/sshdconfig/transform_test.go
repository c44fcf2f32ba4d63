package sshdconfig

import (
	"strings"
	"testing"
)

func TestSetManagedBlock(t *testing.T) {
	d := []string{"PermitRootLogin no", "PasswordAuthentication no"}
	block := BlockBegin + "\nPermitRootLogin no\nPasswordAuthentication no\n" + BlockEnd + "\n"
	tests := []struct {
		name       string
		in         string
		directives []string
		want       string
	}{
		{"empty file", "", d, block},
		{"before first directive, after header comments",
			"# header\n\n# more\nPort 22\n", d,
			"# header\n\n# more\n" + block + "Port 22\n"},
		{"before Include (cloud-init drop-ins must not win)",
			"#\tcomment\nInclude /etc/ssh/sshd_config.d/*.conf\nPermitRootLogin yes\n", d,
			"#\tcomment\n" + block + "Include /etc/ssh/sshd_config.d/*.conf\nPermitRootLogin yes\n"},
		{"before Match",
			"Match User bob\n  X11Forwarding no\n", d,
			block + "Match User bob\n  X11Forwarding no\n"},
		{"only comments: appended",
			"# nothing here\n", d,
			"# nothing here\n" + block},
		{"only comments without final newline",
			"# nothing here", d,
			"# nothing here\n" + block},
		{"no final newline after directive kept",
			"Port 22", d,
			block + "Port 22"},
		{"stale block elsewhere replaced",
			"# head\nPort 22\n" + BlockBegin + "\nPermitRootLogin yes\n" + BlockEnd + "\nUsePAM yes\n", d,
			"# head\n" + block + "Port 22\nUsePAM yes\n"},
		{"two stale blocks both removed",
			BlockBegin + "\nA 1\n" + BlockEnd + "\nPort 22\n" + BlockBegin + "\nB 2\n" + BlockEnd + "\n", d,
			block + "Port 22\n"},
		{"empty directives remove the block",
			"# head\n" + block + "Port 22\n", nil,
			"# head\nPort 22\n"},
		{"empty directives on a file without block: unchanged",
			"Port 22\n# trailing\n", nil,
			"Port 22\n# trailing\n"},
		{"BEGIN without END: only the marker goes",
			BlockBegin + "\nPermitRootLogin yes\nPort 22\n", d,
			block + "PermitRootLogin yes\nPort 22\n"},
		{"CRLF file keeps CRLF",
			"# head\r\nPort 22\r\n", d,
			"# head\r\n" + strings.ReplaceAll(block, "\n", "\r\n") + "Port 22\r\n"},
		{"comments, blanks and odd spacing kept byte for byte",
			"#  Port 22\n\n   PermitRootLogin   yes  \n\t# tab comment\n", []string{"PermitRootLogin no"},
			"#  Port 22\n\n" + BlockBegin + "\nPermitRootLogin no\n" + BlockEnd + "\n   PermitRootLogin   yes  \n\t# tab comment\n"},
		{"multi-line directive string split into lines",
			"Port 22\n", []string{"A 1\nB 2"},
			BlockBegin + "\nA 1\nB 2\n" + BlockEnd + "\nPort 22\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := SetManagedBlock(tt.in, tt.directives)
			if got != tt.want {
				t.Fatalf("got\n%q\nwant\n%q", got, tt.want)
			}
			if again := SetManagedBlock(got, tt.directives); again != got {
				t.Errorf("not idempotent:\n%q\n%q", got, again)
			}
			if n := strings.Count(got, BlockBegin); len(tt.directives) > 0 && n != 1 {
				t.Errorf("%d blocks", n)
			}
			// Removing our block gives back the user's text (for inputs without
			// a stale block and ending in a newline).
			if !strings.Contains(tt.in, BlockBegin) && (tt.in == "" || strings.HasSuffix(tt.in, "\n")) {
				if back := SetManagedBlock(got, nil); back != tt.in {
					t.Errorf("remove: got %q, want %q", back, tt.in)
				}
			}
		})
	}
}

func TestSetManagedBlockWinsInLoad(t *testing.T) {
	// The point of the placement: after SetManagedBlock, our value is the
	// effective one even against cloud-init's drop-in.
	orig := "# Debian\nInclude /etc/ssh/sshd_config.d/*.conf\nPasswordAuthentication yes\n"
	out := SetManagedBlock(orig, []string{"PasswordAuthentication no"})
	e := mustLoad(t, mapFS{
		mainPath: out,
		"/etc/ssh/sshd_config.d/50-cloud-init.conf": "PasswordAuthentication yes\n",
	})
	if v, _ := e.Get("PasswordAuthentication"); v.Args[0] != "no" || v.File != mainPath {
		t.Fatalf("effective = %+v", v)
	}
}

func TestDisableRestore(t *testing.T) {
	in := "Port 22\nPermitRootLogin yes\n  PasswordAuthentication yes\r\n# c\nUsePAM yes"
	tests := []struct {
		lines []int
		want  string
	}{
		{[]int{2}, "Port 22\n" + DisabledMarker + "PermitRootLogin yes\n  PasswordAuthentication yes\r\n# c\nUsePAM yes"},
		{[]int{3, 5}, "Port 22\nPermitRootLogin yes\n" + DisabledMarker + "  PasswordAuthentication yes\r\n# c\n" + DisabledMarker + "UsePAM yes"},
		{[]int{0, 6, -1}, in},
		{nil, in},
	}
	for _, tt := range tests {
		got := DisableLines(in, tt.lines)
		if got != tt.want {
			t.Errorf("DisableLines(%v) =\n%q\nwant\n%q", tt.lines, got, tt.want)
		}
		if twice := DisableLines(got, tt.lines); twice != got {
			t.Errorf("DisableLines twice changed the text: %q", twice)
		}
		if back := RestoreDisabled(got); back != in {
			t.Errorf("RestoreDisabled = %q, want %q", back, in)
		}
		lines, err := Parse(got)
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range tt.lines {
			if n >= 1 && n <= len(lines) && lines[n-1].Keyword != "" {
				t.Errorf("line %d still a directive: %q", n, lines[n-1].Raw)
			}
		}
	}
	if got := DisabledLines(DisableLines(in, []int{5, 2})); len(got) != 2 || got[0] != 2 || got[1] != 5 {
		t.Errorf("DisabledLines = %v", got)
	}
	// A marker whose space an editor trimmed still restores.
	if got := RestoreDisabled("#hardbake-disabled#Port 22\n"); got != "Port 22\n" {
		t.Errorf("got %q", got)
	}
	// Ordinary comments are never uncommented.
	if got := RestoreDisabled("#Port 22\n# hardbake-disabled Port 1\n"); got != "#Port 22\n# hardbake-disabled Port 1\n" {
		t.Errorf("got %q", got)
	}
}
