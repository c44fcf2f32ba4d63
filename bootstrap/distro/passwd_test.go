package distro

import (
	"reflect"
	"testing"
)

// debianPasswd is /etc/passwd of the Debian 12 root internal/testroot
// builds (mmdebstrap, with openssh-server), and an admin user as adduser
// makes one.
const debianPasswd = `root:x:0:0:root:/root:/bin/bash
daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin
bin:x:2:2:bin:/bin:/usr/sbin/nologin
sys:x:3:3:sys:/dev:/usr/sbin/nologin
sync:x:4:65534:sync:/bin:/bin/sync
games:x:5:60:games:/usr/games:/usr/sbin/nologin
man:x:6:12:man:/var/cache/man:/usr/sbin/nologin
lp:x:7:7:lp:/var/spool/lpd:/usr/sbin/nologin
mail:x:8:8:mail:/var/mail:/usr/sbin/nologin
news:x:9:9:news:/var/spool/news:/usr/sbin/nologin
uucp:x:10:10:uucp:/var/spool/uucp:/usr/sbin/nologin
proxy:x:13:13:proxy:/bin:/usr/sbin/nologin
www-data:x:33:33:www-data:/var/www:/usr/sbin/nologin
backup:x:34:34:backup:/var/backups:/usr/sbin/nologin
list:x:38:38:Mailing List Manager:/var/list:/usr/sbin/nologin
irc:x:39:39:ircd:/run/ircd:/usr/sbin/nologin
_apt:x:42:65534::/nonexistent:/usr/sbin/nologin
nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin
systemd-network:x:998:998:systemd Network Management:/:/usr/sbin/nologin
Debian-exim:x:100:107::/var/spool/exim4:/usr/sbin/nologin
messagebus:x:101:108::/nonexistent:/usr/sbin/nologin
sshd:x:102:65534::/run/sshd:/usr/sbin/nologin
_rpc:x:103:65534::/run/rpcbind:/usr/sbin/nologin
admin:x:1000:1000:Admin,,,:/home/admin:/bin/bash
`

// fedoraPasswd holds the accounts of Fedora's setup package (written from
// its passwd file as of Fedora 40/41, not copied from an image: only
// Debian's mirror is reachable here) and a cloud image's user.
const fedoraPasswd = `root:x:0:0:Super User:/root:/bin/bash
bin:x:1:1:bin:/bin:/usr/sbin/nologin
daemon:x:2:2:daemon:/sbin:/usr/sbin/nologin
adm:x:3:4:adm:/var/adm:/usr/sbin/nologin
lp:x:4:7:lp:/var/spool/lpd:/usr/sbin/nologin
sync:x:5:0:sync:/sbin:/bin/sync
shutdown:x:6:0:shutdown:/sbin:/sbin/shutdown
halt:x:7:0:halt:/sbin:/sbin/halt
mail:x:8:12:mail:/var/spool/mail:/usr/sbin/nologin
operator:x:11:0:operator:/root:/usr/sbin/nologin
games:x:12:100:games:/usr/games:/usr/sbin/nologin
ftp:x:14:50:FTP User:/var/ftp:/usr/sbin/nologin
nobody:x:65534:65534:Kernel Overflow User:/:/usr/sbin/nologin
fedora:x:1000:1000:fedora Cloud User:/home/fedora:/bin/bash
`

// loginNames is the names of entries whose shell gives a session.
func loginNames(entries []PasswdEntry) []string {
	var out []string
	for _, e := range entries {
		if e.LoginShell() {
			out = append(out, e.Name)
		}
	}
	return out
}

func TestParsePasswdDistributions(t *testing.T) {
	deb := ParsePasswd(debianPasswd)
	if len(deb) != 24 {
		t.Errorf("Debian: %d entries, want 24", len(deb))
	}
	if got, want := deb[len(deb)-1], (PasswdEntry{"admin", 1000, 1000, "Admin,,,", "/home/admin", "/bin/bash"}); got != want {
		t.Errorf("Debian admin = %+v, want %+v", got, want)
	}
	if got, want := deb[16], (PasswdEntry{"_apt", 42, 65534, "", "/nonexistent", "/usr/sbin/nologin"}); got != want {
		t.Errorf("Debian _apt = %+v, want %+v", got, want)
	}
	// sync's /bin/sync runs one command; nologin is every daemon's.
	if got, want := loginNames(deb), []string{"root", "admin"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Debian login accounts = %q, want %q", got, want)
	}

	fed := ParsePasswd(fedoraPasswd)
	if len(fed) != 14 {
		t.Errorf("Fedora: %d entries, want 14", len(fed))
	}
	// shutdown and halt have "shells" that stop the machine.
	if got, want := loginNames(fed), []string{"root", "fedora"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Fedora login accounts = %q, want %q", got, want)
	}
	if e, ok := LookupUser(fedoraPasswd, "nobody"); !ok || e.UID != 65534 || e.Home != "/" || e.Gecos != "Kernel Overflow User" {
		t.Errorf("Fedora nobody = %+v %v", e, ok)
	}
}

// TestParsePasswdSkips: every line that is no entry for getpwnam(3) is
// skipped, and a bad line does not hide a later good entry of its name.
func TestParsePasswdSkips(t *testing.T) {
	for _, c := range []struct {
		name, text string
		want       []PasswdEntry
	}{
		{"empty", "", nil},
		{"only newlines", "\n\n\n", nil},
		{"comment", "#root:x:0:0::/root:/bin/bash\n", nil},
		{"no final newline", "a:x:1:2:g:/h:/bin/sh", []PasswdEntry{{"a", 1, 2, "g", "/h", "/bin/sh"}}},
		{"no gid", "a:x:1\nb:x\nc\nd:x:3:\n", nil},
		{"gecos, home and shell missing", "a:x:1:2\nb:x:3:4:g\nc:x:5:6:g:/h\n",
			[]PasswdEntry{{"a", 1, 2, "", "", ""}, {"b", 3, 4, "g", "", ""}, {"c", 5, 6, "g", "/h", ""}}},
		{"blanks before the name and ids", "  a:x: 1:+2::/h:/bin/sh\n\tb:x:3:4::/h:/bin/sh\n \t#c:x:5:5::/h:/bin/sh\n",
			[]PasswdEntry{{"a", 1, 2, "", "/h", "/bin/sh"}, {"b", 3, 4, "", "/h", "/bin/sh"}}},
		{"blank after an id", "a:x:1 :2::/h:/bin/sh\n", nil},
		{"largest uid", "a:x:4294967295:0::/h:/bin/sh\n", []PasswdEntry{{"a", 4294967295, 0, "", "/h", "/bin/sh"}}},
		{"short line, then the full entry", "a:x:1\na:x:5:5::/h:/bin/sh\n", []PasswdEntry{{"a", 5, 5, "", "/h", "/bin/sh"}}},
		{"uid not a number", "a:x:u:1::/h:/bin/sh\n", nil},
		{"gid not a number", "a:x:1:g::/h:/bin/sh\n", nil},
		{"empty uid", "a:x::1::/h:/bin/sh\n", nil},
		{"negative uid", "a:x:-1:1::/h:/bin/sh\n", nil},
		{"uid past uid_t", "a:x:4294967296:1::/h:/bin/sh\n", nil},
		{"hex uid", "a:x:0x10:1::/h:/bin/sh\n", nil},
		{"bad uid, then the good entry", "a:x:x:1::/bad:/bin/sh\na:x:7:7::/good:/bin/sh\n", []PasswdEntry{{"a", 7, 7, "", "/good", "/bin/sh"}}},
		{"first good entry wins", "a:x:1:1::/one:/bin/sh\na:x:2:2::/two:/bin/zsh\n", []PasswdEntry{{"a", 1, 1, "", "/one", "/bin/sh"}}},
		{"empty name", ":x:1:1::/h:/bin/sh\n", nil},
		{"NIS compat lines", "+::::::\n+alice::::::/bin/bash\n-bob:::::/home/bob:/bin/sh\n+@admins::::::\n-@guests::::::\n+svc:x:5:5::/srv:/bin/sh\n", nil},
		{"NIS line, then a local one", "-alice::::::\nalice:x:1000:1000::/home/alice:/bin/bash\n",
			[]PasswdEntry{{"alice", 1000, 1000, "", "/home/alice", "/bin/bash"}}},
		{"shell holds the rest of the line", "a:x:1:1::/h:/bin/sh:extra\n", []PasswdEntry{{"a", 1, 1, "", "/h", "/bin/sh:extra"}}},
		{"empty fields", "a:::1::::\n", nil},
		{"empty home and shell", "a::1:1:::\n", []PasswdEntry{{"a", 1, 1, "", "", ""}}},
		{"order kept", "z:x:3:3::/z:/bin/sh\na:x:1:1::/a:/bin/sh\nm:x:2:2::/m:/bin/sh\n",
			[]PasswdEntry{{"z", 3, 3, "", "/z", "/bin/sh"}, {"a", 1, 1, "", "/a", "/bin/sh"}, {"m", 2, 2, "", "/m", "/bin/sh"}}},
	} {
		if got := ParsePasswd(c.text); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: got %+v, want %+v", c.name, got, c.want)
		}
	}
}

func TestLookupUser(t *testing.T) {
	text := "a:x:1\n#b:x:9:9::/c:/bin/sh\nb:x:2:2::/b:/bin/sh\nb:x:3:3::/b3:/bin/sh\n+c::::::\n"
	if e, ok := LookupUser(text, "b"); !ok || e.UID != 2 || e.Home != "/b" {
		t.Errorf("b = %+v %v, want the first entry", e, ok)
	}
	for _, name := range []string{"a", "c", "+c", "#b", "", "nobody"} {
		if e, ok := LookupUser(text, name); ok {
			t.Errorf("%q found: %+v", name, e)
		}
	}
}

func TestLoginShell(t *testing.T) {
	for shell, want := range map[string]bool{
		"/bin/bash": true, "/usr/bin/zsh": true, "/bin/sh": true, "": true, // empty is /bin/sh to sshd and login
		"/usr/sbin/nologin": false, "/sbin/nologin": false, "/usr/bin/nologin": false,
		"/bin/false": false, "/usr/bin/false": false, "/bin/true": false,
		"/bin/sync": false, "/sbin/shutdown": false, "/sbin/halt": false,
		"/usr/local/bin/nologin-wrapper": true,
	} {
		if got := (PasswdEntry{Shell: shell}).LoginShell(); got != want {
			t.Errorf("LoginShell(%q) = %v, want %v", shell, got, want)
		}
	}
}

func TestParseGroup(t *testing.T) {
	// Debian 12's first lines, with the admin user added to sudo.
	text := "root:x:0:\ndaemon:x:1:\nadm:x:4:\nsudo:x:27:admin\nusers:x:100:admin,bob,\n" +
		"# old:x:5:alice\nnomembers:x:6\nnogid:x\nbad:x:g:alice\n+:::\n-wheel:::\nsudo:x:99:carol\n" +
		"spaced:x:8: a, b ,,c\nlast:x:7:a,b"
	want := []GroupEntry{
		{"root", 0, nil}, {"daemon", 1, nil}, {"adm", 4, nil},
		{"sudo", 27, []string{"admin"}}, {"users", 100, []string{"admin", "bob"}}, {"nomembers", 6, nil},
		{"spaced", 8, []string{"a", "b ", "c"}}, {"last", 7, []string{"a", "b"}},
	}
	if got := ParseGroup(text); !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v\nwant %+v", got, want)
	}
	if g, ok := LookupGroup(text, "sudo"); !ok || g.GID != 27 {
		t.Errorf("sudo = %+v %v, want the first entry (gid 27)", g, ok)
	}
	if _, ok := LookupGroup(text, "bad"); ok {
		t.Error("a group whose gid is not a number found")
	}
}
