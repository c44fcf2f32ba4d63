package profile

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/hardbake/hardbake/bootstrap"
)

func TestDefaultIsTheChecklist(t *testing.T) {
	p := Default()
	if p.SSH.PermitRootLogin != "no" || p.SSH.PasswordAuthentication || p.SSH.AddressFamily != "any" || len(p.SSH.Ports) != 0 {
		t.Fatalf("default profile is not the checklist: %+v", p.SSH)
	}
}

func TestParseOverridesDefaults(t *testing.T) {
	p, err := Parse([]byte("ssh:\n  address_family: inet\n  ports: [22, 2222]\n"))
	if err != nil {
		t.Fatal(err)
	}
	if p.SSH.AddressFamily != "inet" || len(p.SSH.Ports) != 2 || p.SSH.Ports[1] != 2222 {
		t.Fatalf("got %+v", p.SSH)
	}
	if p.SSH.PermitRootLogin != "no" || p.SSH.MaxAuthTries != 3 {
		t.Fatalf("defaults lost: %+v", p.SSH)
	}
}

func TestEmptyAndNullKeepDefaults(t *testing.T) {
	for _, in := range []string{"", "# nothing\n", "ssh:\n", "ssh:\n  ports:\n"} {
		p, err := Parse([]byte(in))
		if err != nil {
			t.Fatalf("%q: %v", in, err)
		}
		if p.SSH.PermitRootLogin != "no" {
			t.Fatalf("%q: defaults lost", in)
		}
	}
}

func TestDefaultsAreNotShared(t *testing.T) {
	a, _ := Parse([]byte("ssh:\n  ports: [2222]\n"))
	b := Default()
	if len(b.SSH.Ports) != 0 || len(a.SSH.Ports) != 1 {
		t.Fatal("profiles share state")
	}
}

// TestBadProfiles: every bad profile fails with exactly the expected
// messages (field path, line, what is allowed), all reported at once.
func TestBadProfiles(t *testing.T) {
	cases := []struct {
		name string
		yaml string
		want []string
	}{
		{"address family", "ssh:\n  address_family: ipv4\n",
			[]string{`ssh.address_family (line 2): "ipv4" is not one of any, inet, inet6`}},
		{"host key types", "ssh:\n  host_key_types: [dsa, ed25519, ed25519]\n",
			[]string{`ssh.host_key_types[0] (line 2): "dsa" is not one of ed25519, ecdsa, rsa`, `ssh.host_key_types[2] (line 2): "ed25519" is listed twice`}},
		{"no host key types", "ssh:\n  host_key_types: []\n",
			[]string{`ssh.host_key_types (line 2): needs at least one of ed25519, ecdsa, rsa`}},
		{"crypto level", "ssh:\n  crypto: strong\n",
			[]string{`ssh.crypto (line 2): "strong" is not one of modern, compatible, off`}},
		{"crypto require", "ssh:\n  crypto_require: [diffie-hellman-group14-sha1, ecdsa-sha2-nistp256, curve25519-sha256, curve25519-sha256]\n",
			[]string{
				`ssh.crypto_require[0] (line 2): "diffie-hellman-group14-sha1" is not an algorithm hardbake offers`,
				`ssh.crypto_require[1] (line 2): "ecdsa-sha2-nistp256" needs "ecdsa" in ssh.host_key_types`,
				`ssh.crypto_require[3] (line 2): "curve25519-sha256" is listed twice`}},
		{"root login yes", "ssh:\n  permit_root_login: \"yes\"\n",
			[]string{`ssh.permit_root_login (line 2): "yes" is not one of no, prohibit-password`}},
		{"unknown top key", "sshd:\n  port: 22\n",
			[]string{`sshd (line 1): unknown key; allowed here: accounts, audit, fail2ban, files, firewall, kernel, logging, mac, monitoring, mounts, seal, services, skip, ssh, timesync, updates`}},
		{"unknown nested key", "ssh:\n  port: 22\n",
			[]string{`ssh.port (line 2): unknown key; allowed here: address_family, agent_forwarding, allow_groups, banner, client_alive_count_max, client_alive_interval, crypto, crypto_require, host_key_types, limit_groups, log_level, login_grace_time, max_auth_tries, max_sessions, max_startups, password_authentication, permit_root_login, ports, tcp_forwarding, x11_forwarding`}},
		{"port too big", "ssh:\n  ports: [22, 70000]\n",
			[]string{`ssh.ports[1] (line 2): 70000 is out of range 1-65535`}},
		{"port zero", "ssh:\n  ports:\n    - 0\n",
			[]string{`ssh.ports[0] (line 3): 0 is out of range 1-65535`}},
		{"port not a number", "ssh:\n  ports: [ssh]\n",
			[]string{`ssh.ports[0] (line 2): must be an integer, got "ssh"`}},
		{"ports not a list", "ssh:\n  ports: 22\n",
			[]string{`ssh.ports (line 2): must be a list, got "22"`}},
		{"duplicate port", "ssh:\n  ports: [22, 22]\n",
			[]string{`ssh.ports[1] (line 2): port 22 is listed twice`}},
		{"bool as string", "ssh:\n  password_authentication: maybe\n",
			[]string{`ssh.password_authentication (line 2): must be true or false, got "maybe"`}},
		{"max auth tries", "ssh:\n  max_auth_tries: 0\n",
			[]string{`ssh.max_auth_tries (line 2): 0 is out of range 1-10`}},
		{"grace time", "ssh:\n  login_grace_time: 5\n",
			[]string{`ssh.login_grace_time (line 2): 5 is out of range 10-600`}},
		{"ssh not a mapping", "ssh: [1, 2]\n",
			[]string{`ssh (line 1): must be a mapping of keys, got a list`}},
		{"profile not a mapping", "- ssh\n",
			[]string{`profile (line 1): must be a mapping of keys, got a list`}},
		{"duplicate key", "ssh:\n  address_family: inet\n  address_family: inet6\n",
			[]string{`ssh.address_family (line 3): duplicate key`}},
		{"string where list", "ssh:\n  address_family: [inet]\n",
			[]string{`ssh.address_family (line 2): must be a string, got a list`}},
		{"not yaml", "ssh:\n  address_family: \"inet\n",
			[]string{`profile (line 2): not valid YAML`}},
		{"all at once", "ssh:\n  address_family: ipv6\n  ports: [99999]\n  bogus: 1\n",
			[]string{
				`ssh.bogus (line 4): unknown key`,
				`ssh.address_family (line 2): "ipv6" is not one of any, inet, inet6`,
				`ssh.ports[0] (line 3): 99999 is out of range 1-65535`,
			}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse([]byte(c.yaml))
			if err == nil {
				t.Fatal("accepted")
			}
			if !errors.Is(err, bootstrap.ErrInvalid) {
				t.Errorf("error does not wrap ErrInvalid: %v", err)
			}
			var pe *Error
			if !errors.As(err, &pe) {
				t.Fatalf("not a *profile.Error: %T", err)
			}
			if len(pe.Problems) != len(c.want) {
				t.Errorf("got %d problems, want %d:\n%v", len(pe.Problems), len(c.want), err)
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("missing %q in:\n%v", w, err)
				}
			}
		})
	}
}

func TestLoadNamesTheFile(t *testing.T) {
	_, err := Load("/nonexistent/profile.yaml")
	if !errors.Is(err, bootstrap.ErrInvalid) || !strings.Contains(err.Error(), "/nonexistent/profile.yaml") {
		t.Fatalf("got %v", err)
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(DefaultYAML))
	f.Add([]byte("ssh:\n  ports: [1, 2, 3]\n"))
	f.Add([]byte("ssh: &a\n  x: *a\n"))
	f.Add([]byte("ssh:\n  address_family: ipv4\n  max_auth_tries: -1\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := Parse(data)
		if err == nil {
			// Anything accepted must re-validate cleanly.
			v := validator{lines: map[string]int{}}
			v.profile(p)
			if len(v.problems) > 0 {
				t.Fatalf("accepted an invalid profile: %v", v.problems)
			}
		} else if !errors.Is(err, bootstrap.ErrInvalid) {
			t.Fatalf("error without ErrInvalid: %v", err)
		}
	})
}

// TestDefaultCopiesShareNothing: Default parses DefaultYAML once and hands
// out deep copies, so a caller changing its profile (firstboot sets the
// host's ports) cannot change anyone else's.
func TestDefaultCopiesShareNothing(t *testing.T) {
	a, b := Default(), Default()
	if !reflect.DeepEqual(a, b) {
		t.Fatal("two defaults differ")
	}
	want := fmt.Sprintf("%#v", *b)
	// Change every slice element and append to every slice of a.
	var mutate func(v reflect.Value)
	mutate = func(v reflect.Value) {
		switch v.Kind() {
		case reflect.Struct:
			for i := range v.NumField() {
				mutate(v.Field(i))
			}
		case reflect.Slice:
			for i := range v.Len() {
				mutate(v.Index(i))
			}
			if v.Len() > 0 {
				v.Set(reflect.Append(v, v.Index(0)))
			}
		case reflect.String:
			v.SetString(v.String() + "-changed")
		case reflect.Int:
			v.SetInt(v.Int() + 1)
		}
	}
	mutate(reflect.ValueOf(a).Elem())
	if got := fmt.Sprintf("%#v", *b); got != want {
		t.Fatalf("changing one default changed another:\n%s\nwas\n%s", got, want)
	}
	if got := fmt.Sprintf("%#v", *Default()); got != want {
		t.Fatalf("changing one default changed the next:\n%s\nwas\n%s", got, want)
	}
	if reflect.DeepEqual(a, b) {
		t.Fatal("mutate changed nothing: the test proves nothing")
	}
}

// TestBakedRoundTrip: the profile an image keeps for first boot (Baked)
// loads back as the profile it was made from, for the default and for a
// changed one.
func TestBakedRoundTrip(t *testing.T) {
	changed := Default()
	changed.SSH.Ports = []int{2222}
	changed.SSH.MaxAuthTries = 4
	for _, p := range []*Profile{Default(), changed} {
		data, err := Baked(p)
		if err != nil {
			t.Fatal(err)
		}
		file := filepath.Join(t.TempDir(), "profile.yaml")
		if err := os.WriteFile(file, data, 0o644); err != nil {
			t.Fatal(err)
		}
		got, err := Load(file)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, p) {
			t.Fatalf("baked profile loads as\n%#v\nwant\n%#v", got, p)
		}
	}
	if a, b := Default(), Default(); &a.SSH.Ports == &b.SSH.Ports || a == b {
		t.Fatal("Default returned a shared value")
	}
}
