package steps

import (
	"context"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/hardbake/hardbake/bootstrap/distro"
	"github.com/hardbake/hardbake/bootstrap/profile"
	"github.com/hardbake/hardbake/bootstrap/root"
	"github.com/hardbake/hardbake/bootstrap/runner"
	"github.com/hardbake/hardbake/internal/testroot"
)

// debianJournald is the head of Debian 12's /etc/systemd/journald.conf as
// shipped (systemd 252): every option commented out.
const debianJournald = `#  This file is part of systemd.
#
# See journald.conf(5) for details.

[Journal]
#Storage=auto
#Compress=yes
#Seal=yes
#ForwardToSyslog=yes
#ForwardToKMsg=no
`

func TestSetSystemdConf(t *testing.T) {
	for _, tc := range []struct {
		name, in, key, value, want string
	}{
		{"after the commented default, comments kept", debianJournald, "Storage", "persistent",
			strings.Replace(debianJournald, "#Storage=auto\n", "#Storage=auto\nStorage=persistent\n", 1)},
		{"active line replaced, blanks around = dropped (scanners match ^Key=)",
			"[Journal]\nStorage = volatile\n#Compress=yes\n", "Storage", "persistent",
			"[Journal]\nStorage=persistent\n#Compress=yes\n"},
		{"every active line replaced: systemd keeps the last, scanners read all",
			"[Journal]\nCompress=no\nSeal=yes\nCompress=no\n", "Compress", "yes",
			"[Journal]\nCompress=yes\nSeal=yes\nCompress=yes\n"},
		{"the same key in another section is not ours",
			"[Other]\nStorage=volatile\n[Journal]\nSeal=yes\n", "Storage", "persistent",
			"[Other]\nStorage=volatile\n[Journal]\nSeal=yes\nStorage=persistent\n"},
		{"missing section appended", "# only a comment\n", "Storage", "persistent",
			"# only a comment\n\n[Journal]\nStorage=persistent\n"},
		{"empty file", "", "Compress", "yes", "[Journal]\nCompress=yes\n"},
		{"'# URL=' style comment (journal-upload.conf)", "[Upload]\n# URL=\n# ServerKeyFile=/x\n", "URL", "https://l:19532",
			"[Upload]\n# URL=\nURL=https://l:19532\n# ServerKeyFile=/x\n"},
		{"no trailing newline", "[Journal]\nSeal=yes", "Storage", "persistent", "[Journal]\nSeal=yes\nStorage=persistent\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := setSystemdConf(tc.in, "Journal", tc.key, tc.value)
			if tc.key == "URL" {
				got = setSystemdConf(tc.in, "Upload", tc.key, tc.value)
			}
			if got != tc.want {
				t.Errorf("got:\n%s\nwant:\n%s", got, tc.want)
			}
			// Idempotent.
			if again := setSystemdConf(got, map[bool]string{true: "Upload", false: "Journal"}[tc.key == "URL"], tc.key, tc.value); again != got {
				t.Errorf("a second run changed the text:\n%s", again)
			}
		})
	}
}

func TestParseSystemdConf(t *testing.T) {
	got := parseSystemdConf("# c\n; c\n[Journal]\n  Storage = auto  \nbad line\nSystemMaxUse=1\\\n G\n[X]\nStorage=none\n")
	want := []confAssignment{{"Journal", "Storage", "auto", 4}, {"Journal", "SystemMaxUse", "1 G", 6}, {"X", "Storage", "none", 9}}
	if len(got) != len(want) {
		t.Fatalf("got %v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("assignment %d: got %+v, want %+v", i, got[i], want[i])
		}
	}
}

// TestEffectiveJournaldConf: systemd's order. The main file is the first of
// /etc, /run, /usr/local/lib, /usr/lib; drop-ins of all those directories
// sorted by name, /etc hiding the same name elsewhere, /dev/null masking.
func TestEffectiveJournaldConf(t *testing.T) {
	dir := testroot.Files(t, map[string]string{
		"etc/systemd/journald.conf":                    "[Journal]\nStorage=persistent\nCompress=yes\nForwardToSyslog=yes\n",
		"usr/lib/systemd/journald.conf":                "[Journal]\nStorage=volatile\nSeal=no\n", // hidden by /etc's main file
		"usr/lib/systemd/journald.conf.d/syslog.conf":  "[Journal]\nForwardToSyslog=no\n",        // Debian 13 ships ForwardToSyslog=yes here
		"usr/lib/systemd/journald.conf.d/50-a.conf":    "[Journal]\nCompress=no\n",
		"etc/systemd/journald.conf.d/50-a.conf":        "[Journal]\nCompress=yes\n", // hides /usr/lib's 50-a.conf
		"run/systemd/journald.conf.d/10-volatile.conf": "[Journal]\nStorage=volatile\n",
		"etc/systemd/journald.conf.d/90-size.conf":     "[Journal]\nSystemMaxUse=1G\n",
		"usr/lib/systemd/journald.conf.d/95-off.conf":  "[Journal]\nSystemMaxUse=9G\n",
	})
	if err := os.Symlink("/dev/null", filepath.Join(dir, "etc/systemd/journald.conf.d/95-off.conf")); err != nil {
		t.Fatal(err)
	}
	r, err := root.Dir(dir)
	if err != nil {
		t.Fatal(err)
	}
	files := systemdConfFiles(r, "systemd/journald.conf")
	var order []string
	for _, f := range files {
		order = append(order, f.Path)
	}
	wantOrder := "/etc/systemd/journald.conf /run/systemd/journald.conf.d/10-volatile.conf /etc/systemd/journald.conf.d/50-a.conf /etc/systemd/journald.conf.d/90-size.conf /usr/lib/systemd/journald.conf.d/syslog.conf"
	if strings.Join(order, " ") != wantOrder {
		t.Errorf("files read in order\n %s\nwant\n %s", strings.Join(order, " "), wantOrder)
	}
	eff := effectiveSystemdConf(files, "Journal")
	for k, want := range map[string]effectiveSetting{
		"Storage":         {"volatile", "/run/systemd/journald.conf.d/10-volatile.conf:2"},
		"Compress":        {"yes", "/etc/systemd/journald.conf.d/50-a.conf:2"},
		"ForwardToSyslog": {"no", "/usr/lib/systemd/journald.conf.d/syslog.conf:2"},
		"SystemMaxUse":    {"1G", "/etc/systemd/journald.conf.d/90-size.conf:2"},
	} {
		if eff[k] != want {
			t.Errorf("%s: got %+v, want %+v", k, eff[k], want)
		}
	}
	if _, ok := eff["Seal"]; ok {
		t.Error("Seal read from /usr/lib's main file, which /etc's hides")
	}
}

func TestSetFileCreateMode(t *testing.T) {
	for _, tc := range []struct {
		name, in  string
		elsewhere bool
		want      string
	}{
		{"Debian's 0640 kept", "$FileOwner root\n$FileCreateMode 0640\n", false, "$FileOwner root\n$FileCreateMode 0640\n"},
		{"looser narrowed", "$FileCreateMode 0644\n$FileCreateMode 0600 # x\n", false, "$FileCreateMode 0640\n$FileCreateMode 0600 # x\n"},
		{"0664 loses group write and other read", "  $FileCreateMode   0664\n", false, "  $FileCreateMode   0640\n"},
		{"added after the leading comments, before any action", "# rsyslog.conf\n\nmodule(load=\"imuxsock\")\n*.* /var/log/all\n", false,
			"# rsyslog.conf\n\n# Files rsyslog creates are readable by owner and group only (hardbake, CIS).\n$FileCreateMode 0640\n\nmodule(load=\"imuxsock\")\n*.* /var/log/all\n"},
		{"not added when a drop-in declares it (CIS wants one declaration)", "*.* /var/log/all\n", true, "*.* /var/log/all\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := setFileCreateMode(tc.in, tc.elsewhere); got != tc.want {
				t.Errorf("got:\n%q\nwant:\n%q", got, tc.want)
			}
		})
	}
}

func TestLogFileFixFor(t *testing.T) {
	for _, tc := range []struct {
		path          string
		mode          fs.FileMode
		group         string
		privateLogins bool
		want          logFileFix
	}{
		{"/var/log/dpkg.log", 0o644, "root", false, logFileFix{Mode: 0o640}},
		{"/var/log/syslog", 0o640, "adm", false, logFileFix{}},
		{"/var/log/apt/term.log", 0o640, "adm", false, logFileFix{}},
		{"/var/log/x.log", 0o755, "root", false, logFileFix{Mode: 0o640}},
		{"/var/log/x.log", 0o600 | fs.ModeSetuid, "root", false, logFileFix{Mode: 0o600}},
		{"/var/log/apt/history.log", 0o644, "root", false, logFileFix{}},                          // exempt, as in CIS
		{"/var/log/apt/eipp.log.xz", 0o644, "root", false, logFileFix{}},                          // exempt
		{"/var/log/wtmp", 0o664, "utmp", false, logFileFix{}},                                     // utmp writes it: exempt unless asked
		{"/var/log/wtmp", 0o664, "utmp", true, logFileFix{Mode: 0o640}},                           // private_login_records
		{"/var/log/wtmp.1", 0o664, "utmp", true, logFileFix{}},                                    // rotated copy: exempt (nobody writes it)
		{"/var/log/chrony/m.log", 0o644, "_chrony", false, logFileFix{Mode: 0o640, Group: "adm"}}, // group only reads: adm
		{"/var/log/app.log", 0o664, "app", false, logFileFix{Left: "group app writes it (mode 0664)"}},
		{"/var/log/journal/x/system.journal", 0o640, "systemd-journal", false, logFileFix{}},
		{"/var/log/faillog", 0o644, "root", false, logFileFix{Mode: 0o640}},
		{"/var/log/lastlogs/x.log", 0o640, "staff", false, logFileFix{Group: "adm"}}, // lastlog's exemption is for the file name only
	} {
		got := logFileFixFor(tc.path, tc.mode, tc.group, true, tc.privateLogins)
		got.Path, got.OldMode, got.OldGroup = "", 0, ""
		if got != tc.want {
			t.Errorf("%s %04o %s (private logins %v): got %+v, want %+v", tc.path, tc.mode, tc.group, tc.privateLogins, got, tc.want)
		}
	}
	if got := logFileFixFor("/var/log/x", 0o640, "staff", false, false); got.Group != "root" {
		t.Errorf("without an adm group the group becomes root, got %q", got.Group)
	}
}

// TestLoginRecordsTmpfilesText: Debian 12's var.conf lines, narrowed; our
// own earlier file is not read as the vendor's line.
func TestLoginRecordsTmpfilesText(t *testing.T) {
	confs := []confFile{
		{LoginRecordsTmpfiles, "f /var/log/wtmp 0640 root utmp -\n"},
		{"/usr/lib/tmpfiles.d/var.conf", "q /var 0755 - - -\nf /var/log/wtmp 0664 root utmp -\nf /var/log/btmp 0660 root utmp -\nf /var/log/lastlog 0664 root utmp -\n"},
		{"/usr/lib/tmpfiles.d/zz.conf", "f /var/log/wtmp 0666 root root -\n"},
	}
	got := loginRecordsTmpfilesText(tmpfilesFirstLines(confs, LoginRecordsTmpfiles))
	for _, want := range []string{"\nf /var/log/wtmp 0640 root utmp -\n", "\nf /var/log/btmp 0640 root utmp -\n", "\nf /var/log/lastlog 0640 root utmp -\n"} {
		if !strings.Contains(got, want) {
			t.Errorf("missing %q in:\n%s", want, got)
		}
	}
	if got := loginRecordsTmpfilesText(tmpfilesFirstLines(confs[:1], LoginRecordsTmpfiles)); got != "" {
		t.Errorf("no vendor line (Debian 13): want no file, got:\n%s", got)
	}
}

// TestLoggingOnFixtureDistros: what the step plans per family. Arch
// packages no rsyslog: journald only, said as a warning and as deviations.
// Fedora and the RHEL family take rsyslog and logrotate like Debian.
func TestLoggingOnFixtureDistros(t *testing.T) {
	for name, want := range map[string]struct {
		install string // the install command's packages
		forward string
		devRef  string
	}{
		"debian12":   {"rsyslog logrotate", "yes", "ssg:journald_disable_forward_to_syslog"},
		"ubuntu2404": {"rsyslog logrotate", "yes", "ssg:journald_disable_forward_to_syslog"},
		"fedora41":   {"rsyslog logrotate", "yes", "ssg:journald_disable_forward_to_syslog"},
		"rocky9":     {"rsyslog logrotate", "yes", "ssg:journald_disable_forward_to_syslog"},
		"arch":       {"", "no", "ssg:package_rsyslog_installed"},
	} {
		t.Run(name, func(t *testing.T) {
			// rpm answers exit 1 when a package is not installed.
			env, _ := goldenEnv(t, name, "", map[string]runner.Result{"rpm -q": {ExitCode: 1, Stdout: []byte("package rsyslog is not installed\n")}})
			actions, err := Logging{}.Plan(context.Background(), env)
			if err != nil {
				t.Fatal(err)
			}
			var install, journald string
			for _, a := range actions {
				if a.Kind == "run" && slices.Contains(a.Cmd.Args, "rsyslog") {
					install = strings.Join(a.Cmd.Args[len(a.Cmd.Args)-2:], " ")
				}
				if a.Path == JournaldConf {
					journald = string(a.Data)
				}
			}
			if install != want.install {
				t.Errorf("installs %q, want %q", install, want.install)
			}
			if !strings.Contains(journald, "\nForwardToSyslog="+want.forward+"\n") || !strings.Contains(journald, "Storage=persistent\n") {
				t.Errorf("journald.conf:\n%s", journald)
			}
			var refs []string
			for _, d := range (Logging{}).Deviations(env) {
				refs = append(refs, d.Refs...)
			}
			if !slices.Contains(refs, want.devRef) || !slices.Contains(refs, "ssg:systemd_journal_upload_url") {
				t.Errorf("deviations %v", refs)
			}
		})
	}
}

// TestJournaldMainOnlyInUsr: systemd >= 256 also reads a main file shipped
// in /usr/lib when /etc has none. Scanners read /etc only: the file there is
// the vendor's copy with our values, so no vendor setting is lost (only the
// first main file found is read).
func TestJournaldMainOnlyInUsr(t *testing.T) {
	release, err := os.ReadFile("testdata/roots/fedora41/etc/os-release")
	if err != nil {
		t.Fatal(err)
	}
	dir := testroot.Files(t, map[string]string{
		"etc/os-release":                string(release),
		"usr/lib/systemd/journald.conf": "[Journal]\n#Storage=auto\nRateLimitBurst=5000\n",
	})
	r, d := testroot.Open(t, dir)
	p, _ := profile.Parse(nil)
	env := &Env{Root: r, Distro: d, Profile: p}
	actions, err := journaldActions(env, Logging{}.settings(env))
	if err != nil || len(actions) != 1 {
		t.Fatalf("%v %v", actions, err)
	}
	want := "[Journal]\n#Storage=auto\nStorage=persistent\nRateLimitBurst=5000\nCompress=yes\nForwardToSyslog=yes\n"
	if actions[0].Path != JournaldConf || string(actions[0].Data) != want {
		t.Errorf("%s:\n%s\nwant:\n%s", actions[0].Path, actions[0].Data, want)
	}
}

// TestUploadText: Debian's shipped journal-upload.conf ("# URL=" comments)
// gets the URL and the TLS files SSG's rules compare with.
func TestUploadText(t *testing.T) {
	shipped := "# See journal-upload.conf(5) for details.\n\n[Upload]\n# URL=\n# ServerKeyFile=/etc/ssl/private/journal-upload.pem\n# ServerCertificateFile=/etc/ssl/certs/journal-upload.pem\n# TrustedCertificateFile=/etc/ssl/ca/trusted.pem\n"
	p, err := profile.Parse([]byte("logging:\n  remote_url: https://logs.example.com:19532\n"))
	if err != nil {
		t.Fatal(err)
	}
	got := uploadText(shipped, &Env{Profile: p})
	want := "# See journal-upload.conf(5) for details.\n\n[Upload]\n# URL=\nURL=https://logs.example.com:19532\n" +
		"# ServerKeyFile=/etc/ssl/private/journal-upload.pem\nServerKeyFile=/etc/pki/systemd/private/journal-upload.pem\n" +
		"# ServerCertificateFile=/etc/ssl/certs/journal-upload.pem\nServerCertificateFile=/etc/pki/systemd/certs/journal-upload.pem\n" +
		"# TrustedCertificateFile=/etc/ssl/ca/trusted.pem\nTrustedCertificateFile=/etc/pki/systemd/ca/trusted.pem\n"
	if got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
}

// TestJournaldDropInsGetOurValues: a drop-in that sets another value is
// found and given ours: edited where it is in /etc (its other lines kept),
// overridden by a file of the same name in /etc when it lives under /usr.
func TestJournaldDropInsGetOurValues(t *testing.T) {
	release, err := os.ReadFile("testdata/roots/debian12/etc/os-release")
	if err != nil {
		t.Fatal(err)
	}
	dir := testroot.Files(t, map[string]string{
		"etc/os-release":                              string(release),
		"etc/systemd/journald.conf":                   debianJournald,
		"etc/systemd/journald.conf.d/60-cloud.conf":   "# cloud image\n[Journal]\nStorage=volatile\nSystemMaxUse=50M\n",
		"usr/lib/systemd/journald.conf.d/syslog.conf": "[Journal]\nForwardToSyslog=no\n",
		"usr/lib/systemd/journald.conf.d/ok.conf":     "[Journal]\nCompress=true\n", // same meaning: left alone
		"etc/systemd/journald.conf.d/journald.conf":   "[Journal]\nStorage=auto\n",  // a drop-in, whatever its name
	})
	r, d := testroot.Open(t, dir)
	p, _ := profile.Parse(nil)
	env := &Env{Root: r, Distro: d, Profile: p}
	actions, err := journaldActions(env, Logging{}.settings(env))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, a := range actions {
		got[a.Path] = string(a.Data)
	}
	want := map[string]string{
		JournaldConf: strings.NewReplacer("#Storage=auto\n", "#Storage=auto\nStorage=persistent\n", "#Compress=yes\n", "#Compress=yes\nCompress=yes\n",
			"#ForwardToSyslog=yes\n", "#ForwardToSyslog=yes\nForwardToSyslog=yes\n").Replace(debianJournald),
		"/etc/systemd/journald.conf.d/60-cloud.conf": "# cloud image\n[Journal]\nStorage=persistent\nSystemMaxUse=50M\n",
		"/etc/systemd/journald.conf.d/syslog.conf":   "[Journal]\nForwardToSyslog=yes\n",
		"/etc/systemd/journald.conf.d/journald.conf": "[Journal]\nStorage=persistent\n",
	}
	if len(got) != len(want) {
		t.Errorf("wrote %d files, want %d: %v", len(got), len(want), got)
	}
	for p, w := range want {
		if got[p] != w {
			t.Errorf("%s:\n%s\nwant:\n%s", p, got[p], w)
		}
	}
}

func TestKeepFreeTooLarge(t *testing.T) {
	const gib = 1 << 30
	for _, tc := range []struct {
		v    string
		size uint64
		want bool
	}{
		{"100G", 10 * gib, true}, // Ansible Lockdown's value on a small cloud disk
		{"100G", 500 * gib, false},
		{"1G", 10 * gib, false},
		{"5G", 10 * gib, true},
		{"5368709120", 10 * gib, true},
		{"15%", 10 * gib, false}, // not a size systemd reads here: no claim
		{"", 10 * gib, false},
	} {
		if got := keepFreeTooLarge(tc.v, tc.size); got != tc.want {
			t.Errorf("SystemKeepFree=%s on %d bytes: got %v, want %v", tc.v, tc.size, got, tc.want)
		}
	}
}

// TestLogAptHookRuns runs the hook's command (with /var/log pointed at a
// scratch directory) the way apt does, through sh: a 0644 log and a 0755
// one lose the bits outside 0640, a 0600 one and SSG's exemptions
// (history.log, eipp.log.xz; the login records unless private) stay.
func TestLogAptHookRuns(t *testing.T) {
	for _, private := range []bool{true, false} {
		dir := t.TempDir()
		modes := map[string]fs.FileMode{"dpkg.log": 0o644, "apt/term.log": 0o755, "x/own.log": 0o600,
			"apt/history.log": 0o644, "apt/eipp.log.xz": 0o644, "wtmp": 0o644}
		for name, m := range modes {
			p := filepath.Join(dir, name)
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, nil, m); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(p, m); err != nil {
				t.Fatal(err)
			}
		}
		text := logAptHookText(private)
		_, rest, _ := strings.Cut(text, `DPkg::Post-Invoke { "`)
		command, _, ok := strings.Cut(rest, `"; };`)
		if !ok || strings.Contains(command, `"`) {
			t.Fatalf("hook text:\n%s", text)
		}
		command = strings.ReplaceAll(command, "/var/log", dir)
		if out, err := exec.Command("sh", "-c", command).CombinedOutput(); err != nil {
			t.Fatalf("%s: %v %s", command, err, out)
		}
		want := map[string]fs.FileMode{"dpkg.log": 0o640, "apt/term.log": 0o640, "x/own.log": 0o600,
			"apt/history.log": 0o644, "apt/eipp.log.xz": 0o644, "wtmp": 0o644}
		if private {
			want["wtmp"] = 0o640
		}
		for name, m := range want {
			fi, err := os.Stat(filepath.Join(dir, name))
			if err != nil || fi.Mode().Perm() != m {
				t.Errorf("private=%v %s: %v, want %04o", private, name, fi.Mode().Perm(), m)
			}
		}
		for _, d := range []string{"apt", "x"} {
			if fi, _ := os.Stat(filepath.Join(dir, d)); fi.Mode().Perm() != 0o755 {
				t.Errorf("directory %s: %v (directories are left alone)", d, fi.Mode())
			}
		}
	}
}

// TestRuntimeLogsMadeStrict: unattended-upgrades' logs are made empty,
// root:adm 0640, where their directory exists, so its first run appends to
// them instead of creating them 0644; existing files are left alone.
func TestRuntimeLogsMadeStrict(t *testing.T) {
	env := sysvEnv(t, distro.Systemd)
	if got := runtimeLogActions(env); len(got) != 0 {
		t.Fatalf("without unattended-upgrades' log directory: %+v", got)
	}
	os.WriteFile(env.Root.HostPath("/etc/group"), []byte("root:x:0:\nadm:x:4:\n"), 0o644)
	if err := os.MkdirAll(env.Root.HostPath("/var/log/unattended-upgrades"), 0o750); err != nil {
		t.Fatal(err)
	}
	if _, err := Execute(context.Background(), env, runtimeLogActions(env)); err != nil {
		t.Fatal(err)
	}
	for _, p := range runtimeLogs {
		fi, err := os.Stat(env.Root.HostPath(p))
		if err != nil {
			t.Fatal(err)
		}
		if st := fi.Sys().(*syscall.Stat_t); fi.Mode().Perm() != 0o640 || st.Gid != 4 || fi.Size() != 0 {
			t.Errorf("%s: %v gid %d size %d, want empty 0640 adm", p, fi.Mode(), st.Gid, fi.Size())
		}
	}
	if again := runtimeLogActions(env); len(again) != 0 {
		t.Errorf("existing logs planned again: %+v", again)
	}
}
