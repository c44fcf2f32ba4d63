package steps

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/hardbake/hardbake/bootstrap/profile"
)

func TestSetSettings(t *testing.T) {
	cases := []struct {
		name, in, sep string
		want          []setting
		out           string
	}{
		{"login.defs value keeps its spacing", "# comment\nPASS_MAX_DAYS\t99999\nPASS_MIN_DAYS   0\n", "\t",
			[]setting{{"PASS_MAX_DAYS", "365"}, {"PASS_MIN_DAYS", "1"}},
			"# comment\nPASS_MAX_DAYS\t365\nPASS_MIN_DAYS   1\n"},
		{"every active line of a key gets the value", "UMASK 022\nX 1\nUMASK\t077\n", "\t",
			[]setting{{"UMASK", "027"}}, "UMASK 027\nX 1\nUMASK\t027\n"},
		{"a missing key goes after its commented example", "# INACTIVE=-1\n# EXPIRE=\nSHELL=/bin/sh\n", "=",
			[]setting{{"INACTIVE", "45"}}, "# INACTIVE=-1\nINACTIVE=45\n# EXPIRE=\nSHELL=/bin/sh\n"},
		{"no example: at the end, newline added", "SHELL=/bin/sh", "=",
			[]setting{{"INACTIVE", "45"}}, "SHELL=/bin/sh\nINACTIVE=45\n"},
		{"an empty file", "", "=", []setting{{"INACTIVE", "45"}}, "INACTIVE=45\n"},
		{"a longer key of the same start is another key", "UMASK_X 1\n#UMASK 022\n", "\t",
			[]setting{{"UMASK", "027"}}, "UMASK_X 1\n#UMASK 022\nUMASK\t027\n"},
		{"pwquality style, trailing comment kept", "# minlen = 8\nminlen=9 # mine\n", " = ",
			[]setting{{"minlen", "14"}}, "# minlen = 8\nminlen=14 # mine\n"},
		{"bare keyword added after its example", "# enforce_for_root\n# minlen = 8\n", " = ",
			[]setting{{"enforce_for_root", ""}}, "# enforce_for_root\nenforce_for_root\n# minlen = 8\n"},
		{"bare keyword present", "enforce_for_root\n", " = ", []setting{{"enforce_for_root", ""}}, "enforce_for_root\n"},
		{"key without a value gets one", "deny\n", " = ", []setting{{"deny", "4"}}, "deny = 4\n"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := setSettings(c.in, c.sep, c.want)
			if got != c.out {
				t.Errorf("got\n%q\nwant\n%q", got, c.out)
			}
			if again := setSettings(got, c.sep, c.want); again != got {
				t.Errorf("not idempotent:\n%q", again)
			}
		})
	}
}

func TestSuWheel(t *testing.T) {
	debian := "auth       sufficient pam_rootok.so\n\n# Uncomment this to force users to be a member of group wheel\n# auth       required   pam_wheel.so\n\n# auth       sufficient pam_wheel.so trust\n@include common-auth\n"
	line := "# hardbake: only members of sugroup may use su (admins use sudo).\nauth       required   pam_wheel.so use_uid group=sugroup\n"
	cases := []struct{ name, in, out string }{
		{"the shipped example is replaced", debian,
			"auth       sufficient pam_rootok.so\n\n# Uncomment this to force users to be a member of group wheel\n" + line + "\n# auth       sufficient pam_wheel.so trust\n@include common-auth\n"},
		{"an active line is replaced, other active pam_wheel lines commented",
			"auth sufficient pam_rootok.so\nauth required pam_wheel.so group=wheel\nauth sufficient pam_wheel.so trust\n",
			"auth sufficient pam_rootok.so\n" + line + "#auth sufficient pam_wheel.so trust\n"},
		// util-linux's su file of the RHEL family and Fedora, as printed on
		// a CentOS 7 host (public transcript; RHEL 9 and Fedora ship the
		// same lines).
		{"the RHEL/Fedora example (with use_uid) is replaced",
			"#%PAM-1.0\nauth\t\tsufficient\tpam_rootok.so\n# Uncomment the following line to implicitly trust users in the \"wheel\" group.\n#auth\t\tsufficient\tpam_wheel.so trust use_uid\n# Uncomment the following line to require a user to be in the \"wheel\" group.\n#auth\t\trequired\tpam_wheel.so use_uid\nauth\t\tsubstack\tsystem-auth\n",
			"#%PAM-1.0\nauth\t\tsufficient\tpam_rootok.so\n# Uncomment the following line to implicitly trust users in the \"wheel\" group.\n#auth\t\tsufficient\tpam_wheel.so trust use_uid\n# Uncomment the following line to require a user to be in the \"wheel\" group.\n" + line + "auth\t\tsubstack\tsystem-auth\n"},
		{"no example: after pam_rootok (root still may su)", "#%PAM-1.0\nauth\t\tsufficient\tpam_rootok.so\nauth\t\tinclude\t\tsystem-auth\n",
			"#%PAM-1.0\nauth\t\tsufficient\tpam_rootok.so\n" + line + "auth\t\tinclude\t\tsystem-auth\n"},
		{"no pam_rootok: before the first auth line", "#%PAM-1.0\nauth include system-auth\n", "#%PAM-1.0\n" + line + "auth include system-auth\n"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := suWheel(c.in, "sugroup")
			if got != c.out {
				t.Errorf("got\n%s\nwant\n%s", got, c.out)
			}
			if again := suWheel(got, "sugroup"); again != got {
				t.Errorf("not idempotent:\n%s", again)
			}
		})
	}
	// Another group later replaces ours, marker included.
	if got := suWheel(suWheel(debian, "sugroup"), "admins"); strings.Contains(got, "sugroup") || strings.Count(got, "pam_wheel.so use_uid") != 1 {
		t.Errorf("changing the group:\n%s", got)
	}
}

func TestBashrcBlock(t *testing.T) {
	once := bashrcBlock("[ -z \"$PS1\" ] && return\nPS1=x", "027")
	want := "[ -z \"$PS1\" ] && return\nPS1=x\n" + blockBegin + "umask 027\n" + blockEnd
	if once != want {
		t.Errorf("got\n%s", once)
	}
	if again := bashrcBlock(once, "077"); again != strings.Replace(want, "umask 027", "umask 077", 1) {
		t.Errorf("a new value replaces the block:\n%s", again)
	}
}

func TestUnixWithoutNullok(t *testing.T) {
	unix, err := os.ReadFile(filepath.Join("testdata", "accounts", "pam-configs-unix"))
	if err != nil {
		t.Fatal(err)
	}
	got := unixWithoutNullok(string(unix))
	for _, want := range []string{"Priority: 257\nConflicts: unix\n", "[success=end default=ignore]\tpam_unix.so try_first_pass\n", "pam_unix.so obscure use_authtok try_first_pass yescrypt"} {
		if !strings.Contains(got, want) {
			t.Errorf("missing %q in\n%s", want, got)
		}
	}
	if strings.Contains(got, "nullok") || strings.Count(got, "Priority:") != 1 || strings.Count(got, "Name:") != 1 {
		t.Errorf("derived profile:\n%s", got)
	}
}

func TestAgeingLockouts(t *testing.T) {
	shadow := `root:*:19000:0:99999:7:::
daemon:*:19000:0:99999:7:::
alice:!:20000:1:365:7:45::
bob:$y$j9T$abc:20000:1:365:7:45::
carol:!$y$j9T$abc:20000:1:365:7:45::
dave::20000:0:90:7:::
erin:*:20000::::::
frank:!*:20000:0:0:7:::
#comment:!:1:1:1:1:::
`
	got := ageingLockouts(shadow)
	want := []string{"alice", "carol", "dave", "frank"}
	if !slices.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

func TestShellProfile(t *testing.T) {
	p := profile.Default().Accounts
	got := shellProfile(p)
	for _, want := range []string{"\numask 027\n", "\ttypeset -xr TMOUT=900 2>/dev/null\n"} {
		if !strings.Contains(got, want) {
			t.Errorf("missing %q:\n%s", want, got)
		}
	}
	p.ShellTimeout = 0
	if strings.Contains(shellProfile(p), "TMOUT") {
		t.Error("shell_timeout 0 still sets TMOUT")
	}
}
