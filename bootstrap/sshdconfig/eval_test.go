package sshdconfig

import (
	"errors"
	"fmt"
	"io/fs"
	"reflect"
	"strings"
	"testing"
)

const mainPath = "/etc/ssh/sshd_config"

// where names a Value's origin for compact comparisons: "file:line".
func where(v Value) string { return fmt.Sprintf("%s:%d", v.File, v.Line) }

func mustLoad(t *testing.T, fsys mapFS) *Effective {
	t.Helper()
	e, err := Load(fsys, mainPath)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func getArg(t *testing.T, e *Effective, kw string) string {
	t.Helper()
	v, ok := e.Get(kw)
	if !ok {
		return "<unset>"
	}
	return strings.Join(v.Args, " ")
}

func TestLoadFirstValueWins(t *testing.T) {
	tests := []struct {
		name  string
		fsys  mapFS
		kw    string
		want  string
		where string
	}{
		{
			name: "same file",
			fsys: mapFS{mainPath: "PermitRootLogin no\nPermitRootLogin yes\n"},
			kw:   "PermitRootLogin", want: "no", where: mainPath + ":1",
		},
		{
			name: "main before include beats drop-in",
			fsys: mapFS{
				mainPath: "PermitRootLogin yes\nInclude /etc/ssh/sshd_config.d/*.conf\n",
				"/etc/ssh/sshd_config.d/10-hardening.conf": "PermitRootLogin no\n",
			},
			kw: "permitrootlogin", want: "yes", where: mainPath + ":1",
		},
		{
			name: "drop-in beats main after include (cloud-init)",
			fsys: mapFS{
				mainPath: "Include /etc/ssh/sshd_config.d/*.conf\nPasswordAuthentication no\n",
				"/etc/ssh/sshd_config.d/50-cloud-init.conf": "PasswordAuthentication yes\n",
			},
			kw: "passwordauthentication", want: "yes", where: "/etc/ssh/sshd_config.d/50-cloud-init.conf:1",
		},
		{
			name: "drop-ins in sorted order",
			fsys: mapFS{
				mainPath:                           "Include /etc/ssh/sshd_config.d/*.conf\n",
				"/etc/ssh/sshd_config.d/99-z.conf": "MaxAuthTries 9\n",
				"/etc/ssh/sshd_config.d/00-a.conf": "MaxAuthTries 1\n",
				"/etc/ssh/sshd_config.d/50-m.conf": "MaxAuthTries 5\n",
			},
			kw: "maxauthtries", want: "1", where: "/etc/ssh/sshd_config.d/00-a.conf:1",
		},
		{
			name: "glob skips dot-files like glob(3)",
			fsys: mapFS{
				mainPath:                              "Include /etc/ssh/sshd_config.d/*.conf\n",
				"/etc/ssh/sshd_config.d/.00-old.conf": "PermitRootLogin yes\n",
				"/etc/ssh/sshd_config.d/10-new.conf":  "PermitRootLogin no\n",
			},
			kw: "permitrootlogin", want: "no", where: "/etc/ssh/sshd_config.d/10-new.conf:1",
		},
		{
			name: "relative include is under /etc/ssh",
			fsys: mapFS{
				mainPath:                        "Include sshd_config.d/*.conf\n",
				"/etc/ssh/sshd_config.d/a.conf": "Banner /etc/issue.net\n",
			},
			kw: "banner", want: "/etc/issue.net", where: "/etc/ssh/sshd_config.d/a.conf:1",
		},
		{
			name: "nested include",
			fsys: mapFS{
				mainPath:          "Include /etc/ssh/a.conf\nLogLevel INFO\n",
				"/etc/ssh/a.conf": "Include b.conf\n",
				"/etc/ssh/b.conf": "LogLevel VERBOSE\n",
			},
			kw: "loglevel", want: "VERBOSE", where: "/etc/ssh/b.conf:1",
		},
		{
			name: "alias shares the slot",
			fsys: mapFS{mainPath: "ChallengeResponseAuthentication no\nKbdInteractiveAuthentication yes\n"},
			kw:   "KbdInteractiveAuthentication", want: "no", where: mainPath + ":1",
		},
		{
			name: "missing literal include is ignored like sshd",
			fsys: mapFS{mainPath: "Include /etc/ssh/missing.conf\nUseDNS no\n"},
			kw:   "usedns", want: "no", where: mainPath + ":2",
		},
		{
			name: "directive after trailing Match is not global",
			fsys: mapFS{mainPath: "X11Forwarding yes\nMatch User bob\nX11Forwarding no\n"},
			kw:   "x11forwarding", want: "yes", where: mainPath + ":1",
		},
		{
			name: "Match all does not end match context",
			fsys: mapFS{mainPath: "Match User bob\nMatch all\nPermitTTY no\n"},
			kw:   "permittty", want: "<unset>",
		},
		{
			name: "Match in included file ends with that file",
			fsys: mapFS{
				mainPath:          "Include /etc/ssh/m.conf\nPasswordAuthentication no\n",
				"/etc/ssh/m.conf": "Match User bob\nPasswordAuthentication yes\n",
			},
			kw: "passwordauthentication", want: "no", where: mainPath + ":2",
		},
		{
			name: "setenv: first line wins",
			fsys: mapFS{mainPath: "SetEnv A=1\nSetEnv B=2\n"},
			kw:   "setenv", want: "A=1", where: mainPath + ":1",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := mustLoad(t, tt.fsys)
			if got := getArg(t, e, tt.kw); got != tt.want {
				t.Fatalf("%s = %q, want %q", tt.kw, got, tt.want)
			}
			if tt.where != "" {
				v, _ := e.Get(tt.kw)
				if where(v) != tt.where {
					t.Errorf("from %s, want %s", where(v), tt.where)
				}
				if len(e.All(tt.kw)) != 1 {
					t.Errorf("first-value-wins keyword has %d values", len(e.All(tt.kw)))
				}
			}
		})
	}
}

func TestLoadAccumulates(t *testing.T) {
	fsys := mapFS{
		mainPath: "Port 22\nInclude /etc/ssh/sshd_config.d/*.conf\n" +
			"ListenAddress 0.0.0.0\nAllowUsers alice bob\nAcceptEnv LANG\n" +
			"HostKey /etc/ssh/ssh_host_ed25519_key\nSubsystem sftp /usr/lib/openssh/sftp-server\n",
		"/etc/ssh/sshd_config.d/10-x.conf": "Port 2222\nAllowUsers carol\nAcceptEnv LC_*\nHostKey /etc/ssh/ssh_host_rsa_key\n" +
			"Subsystem other /bin/other\n",
	}
	e := mustLoad(t, fsys)
	check := func(kw string, want ...string) {
		t.Helper()
		var got []string
		for _, v := range e.All(kw) {
			got = append(got, strings.Join(v.Args, " "))
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s = %q, want %q", kw, got, want)
		}
	}
	check("port", "22", "2222")
	check("allowusers", "carol", "alice bob")
	check("acceptenv", "LC_*", "LANG")
	check("hostkey", "/etc/ssh/ssh_host_rsa_key", "/etc/ssh/ssh_host_ed25519_key")
	check("subsystem", "other /bin/other", "sftp /usr/lib/openssh/sftp-server")
	check("include", "/etc/ssh/sshd_config.d/*.conf")
	check("listenaddress", "0.0.0.0")
	if got, want := e.Files, []string{mainPath, "/etc/ssh/sshd_config.d/10-x.conf"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Files = %v, want %v", got, want)
	}
}

func TestLoadMatchBlocks(t *testing.T) {
	fsys := mapFS{
		mainPath: "PermitRootLogin no\n" +
			"Include /etc/ssh/sshd_config.d/*.conf\n" +
			"Match Group sftp\n" +
			"  ForceCommand internal-sftp\n" +
			"  Include /etc/ssh/sftp-extra.conf\n" +
			"  ChrootDirectory %h\n" +
			"Match all\n" +
			"  PasswordAuthentication no\n",
		"/etc/ssh/sshd_config.d/50-cloud-init.conf": "PasswordAuthentication yes\nMatch Address 10.0.0.0/8\n  PermitRootLogin prohibit-password\n",
		"/etc/ssh/sftp-extra.conf":                  "AllowTcpForwarding no\nMatch User backup\n  X11Forwarding no\n",
	}
	e := mustLoad(t, fsys)
	type block struct {
		criteria   string
		at         string
		directives []string
	}
	var got []block
	for _, m := range e.Matches {
		b := block{criteria: strings.Join(m.Criteria, " "), at: fmt.Sprintf("%s:%d", m.File, m.Line)}
		for _, d := range m.Directives {
			b.directives = append(b.directives, d.Keyword+"@"+where(d))
		}
		got = append(got, b)
	}
	want := []block{
		{"Address 10.0.0.0/8", "/etc/ssh/sshd_config.d/50-cloud-init.conf:2",
			[]string{"permitrootlogin@/etc/ssh/sshd_config.d/50-cloud-init.conf:3"}},
		{"Group sftp", mainPath + ":3", []string{
			"forcecommand@" + mainPath + ":4",
			"include@" + mainPath + ":5",
			"allowtcpforwarding@/etc/ssh/sftp-extra.conf:1", // the included file joins the enclosing Match
			"chrootdirectory@" + mainPath + ":6",            // back in Group sftp after the include
		}},
		{"User backup", "/etc/ssh/sftp-extra.conf:2", []string{"x11forwarding@/etc/ssh/sftp-extra.conf:3"}},
		{"all", mainPath + ":7", []string{"passwordauthentication@" + mainPath + ":8"}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Matches =\n%v\nwant\n%v", got, want)
	}
	if v := getArg(t, e, "passwordauthentication"); v != "yes" {
		t.Errorf("global PasswordAuthentication = %s, want yes from cloud-init", v)
	}
	if v := getArg(t, e, "allowtcpforwarding"); v != "<unset>" {
		t.Errorf("AllowTcpForwarding leaked out of Match: %s", v)
	}
}

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name string
		fsys mapFS
		want error
		msg  string
	}{
		{"missing main file", mapFS{}, fs.ErrNotExist, mainPath},
		{"self include", mapFS{mainPath: "Include /etc/ssh/sshd_config\n"}, ErrIncludeLoop, ""},
		{"include loop via glob", mapFS{
			mainPath:                        "Include sshd_config.d/*\n",
			"/etc/ssh/sshd_config.d/a.conf": "Include /etc/ssh/sshd_config.d/b.conf\n",
			"/etc/ssh/sshd_config.d/b.conf": "Include /etc/ssh/sshd_config.d/a.conf\n",
		}, ErrIncludeLoop, ""},
		{"quote error names file and line", mapFS{
			mainPath:          "Include a.conf\n",
			"/etc/ssh/a.conf": "\nBanner \"x\n",
		}, ErrQuote, "/etc/ssh/a.conf line 2"},
		{"duplicate subsystem across files", mapFS{
			mainPath:          "Subsystem sftp /a\nInclude a.conf\n",
			"/etc/ssh/a.conf": "Subsystem sftp /b\n",
		}, ErrDuplicateSubsystem, "/etc/ssh/a.conf line 1"},
		{"empty include", mapFS{mainPath: "Include \"\"\n"}, ErrEmptyInclude, ""},
		{"bad glob", mapFS{mainPath: "Include /etc/ssh/[\n"}, nil, "include"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load(tt.fsys, mainPath)
			if err == nil {
				t.Fatal("no error")
			}
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Errorf("err = %v, want %v", err, tt.want)
			}
			if !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("err %q does not mention %q", err, tt.msg)
			}
		})
	}
}

func TestLoadIncludeDepth(t *testing.T) {
	chain := func(n int) mapFS {
		m := mapFS{mainPath: "Include /etc/ssh/c1\n"}
		for i := 1; i < n; i++ {
			m[fmt.Sprintf("/etc/ssh/c%d", i)] = fmt.Sprintf("Include /etc/ssh/c%d\n", i+1)
		}
		m[fmt.Sprintf("/etc/ssh/c%d", n)] = "PermitRootLogin no\n"
		return m
	}
	// sshd 9.2: 16 nested includes load, 17 are fatal (checked with sshd -T).
	if _, err := Load(chain(16), mainPath); err != nil {
		t.Errorf("16 levels: %v", err)
	}
	if _, err := Load(chain(17), mainPath); !errors.Is(err, ErrIncludeDepth) {
		t.Errorf("17 levels: err = %v, want ErrIncludeDepth", err)
	}
}

func TestPorts(t *testing.T) {
	tests := []struct {
		name string
		text string
		want []int
	}{
		{"default", "PermitRootLogin no\n", []int{22}},
		{"custom", "Port 2222\n", []int{2222}},
		{"several, deduplicated", "Port 22\nPort 2222\nPort 22\n", []int{22, 2222}},
		{"key=value", "Port=2200\n", []int{2200}},
		{"bare listen address uses Port", "Port 2222\nListenAddress 10.0.0.1\n", []int{2222}},
		{"host:port replaces Port for that address", "Port 2222\nListenAddress 10.0.0.1:2200\n", []int{2200}},
		{"mixed", "Port 2222\nListenAddress 127.0.0.1:2200\nListenAddress 127.0.0.2\n", []int{2200, 2222}},
		{"listen with default port", "ListenAddress 127.0.0.1\nListenAddress [::1]:2201\n", []int{22, 2201}},
		{"bare IPv6 has no port", "Port 2222\nListenAddress fe80::1\n", []int{2222}},
		{"host/port form", "ListenAddress 127.0.0.1/2202\n", []int{2202}},
		{"rdomain suffix", "ListenAddress 127.0.0.1:2203 rdomain 1\n", []int{2203}},
		{"Port in Match is not global", "Port 2222\nMatch User x\nPort 1\n", []int{2222}},
		{"service name", "Port ssh\n", []int{22}},
		{"invalid port ignored", "Port 99999\n", []int{22}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := mustLoad(t, mapFS{mainPath: tt.text})
			if got := e.Ports(); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Ports() = %v, want %v", got, tt.want)
			}
		})
	}
}
