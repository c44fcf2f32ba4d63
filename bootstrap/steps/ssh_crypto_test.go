package steps

import (
	"context"
	"strings"
	"testing"

	"github.com/hardbake/hardbake/bootstrap/profile"
	"github.com/hardbake/hardbake/bootstrap/report"
)

// TestSSHCryptoOffline: without a runnable sshd the version comes from the
// package database, and an image whose version is unknown gets no algorithm
// lines and a warning instead.
func TestSSHCryptoOffline(t *testing.T) {
	const sshdConfig = "Include /etc/ssh/sshd_config.d/*.conf\n"
	dpkg := func(v string) string {
		return "Package: openssh-client\nStatus: install ok installed\nVersion: 1:10.0p1-7\n\nPackage: openssh-server\nStatus: install ok installed\nVersion: " + v + "\n"
	}
	for _, c := range []struct {
		name, profile string
		files         map[string]string
		has, hasNot   []string
		warn          bool
	}{
		{"debian 12 dpkg", "", map[string]string{"etc/os-release": "ID=debian\n", "var/lib/dpkg/status": dpkg("1:9.2p1-2+deb12u3")},
			[]string{"KexAlgorithms sntrup761x25519-sha512@openssh.com,curve25519-sha256,", "HostKeyAlgorithms ssh-ed25519,ssh-ed25519-cert-v01@openssh.com\n", "HostKey /etc/ssh/ssh_host_ed25519_key"},
			[]string{"mlkem", "ecdh-sha2", "hmac-sha2-256,", "rsa-sha2"}, false},
		{"debian 13 dpkg", "", map[string]string{"etc/os-release": "ID=debian\n", "var/lib/dpkg/status": dpkg("1:10.0p1-7")},
			[]string{"KexAlgorithms mlkem768x25519-sha256,sntrup761x25519-sha512@openssh.com,"}, []string{"ecdh-sha2"}, false},
		{"arch pacman, rsa asked", "ssh:\n  host_key_types: [ed25519, rsa]\n", map[string]string{"etc/os-release": "ID=arch\n",
			"var/lib/pacman/local/openssh-9.9p1-2/desc": "%NAME%\nopenssh\n\n%VERSION%\n9.9p1-2\n"},
			[]string{"mlkem768x25519-sha256", "rsa-sha2-512,rsa-sha2-256", "HostKey /etc/ssh/ssh_host_rsa_key"}, nil, false},
		{"compatible", "ssh:\n  crypto: compatible\n", map[string]string{"etc/os-release": "ID=debian\n", "var/lib/dpkg/status": dpkg("1:9.2p1-2")},
			[]string{"ecdh-sha2-nistp256", "hmac-sha2-256,"}, []string{"sha1", "cbc"}, false},
		{"required algorithm", "ssh:\n  crypto_require: [ecdh-sha2-nistp256]\n", map[string]string{"etc/os-release": "ID=debian\n", "var/lib/dpkg/status": dpkg("1:9.2p1-2")},
			[]string{"curve25519-sha256@libssh.org,diffie-hellman-group16-sha512,diffie-hellman-group18-sha512,ecdh-sha2-nistp256\n"}, []string{"nistp384"}, false},
		{"off", "ssh:\n  crypto: \"off\"\n", map[string]string{"etc/os-release": "ID=debian\n", "var/lib/dpkg/status": dpkg("1:9.2p1-2")},
			nil, []string{"KexAlgorithms", "HostKey"}, false},
		{"rpm image", "", map[string]string{"etc/os-release": "ID=fedora\n", "var/lib/rpm/rpmdb.sqlite": "x"},
			nil, []string{"KexAlgorithms", "HostKey"}, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			c.files["etc/ssh/sshd_config"] = sshdConfig
			c.files["etc/ssh/sshd_config.d/.keep"] = ""
			env := fixture(t, c.files)
			p, err := profile.Parse([]byte(c.profile))
			if err != nil {
				t.Fatal(err)
			}
			env.Profile = p
			ctx := context.Background()
			if _, err := (SSH{}).Apply(ctx, env); err != nil {
				t.Fatal(err)
			}
			data, _ := env.Root.ReadFile(SSHDropIn)
			for _, s := range c.has {
				if !strings.Contains(string(data), s) {
					t.Errorf("drop-in lacks %q:\n%s", s, data)
				}
			}
			for _, s := range c.hasNot {
				if strings.Contains(string(data), s) {
					t.Errorf("drop-in has %q:\n%s", s, data)
				}
			}
			checks, err := (SSH{}).Check(ctx, env)
			if err != nil {
				t.Fatal(err)
			}
			warned := false
			for _, ch := range checks {
				if ch.Failed() {
					t.Errorf("check %s: want %s got %s", ch.ID, ch.Want, ch.Got)
				}
				if ch.ID == "ssh.crypto" && ch.Severity == report.Warn {
					warned = true
				}
			}
			if warned != c.warn {
				t.Errorf("ssh.crypto warning = %v, want %v", warned, c.warn)
			}
		})
	}
}

// TestSSHCryptoRequireUnknownToTarget: a required algorithm the target's
// OpenSSH does not know is bad input, not silently dropped.
func TestSSHCryptoRequireUnknownToTarget(t *testing.T) {
	env := fixture(t, map[string]string{"etc/os-release": "ID=debian\n", "etc/ssh/sshd_config": "PermitRootLogin yes\n",
		"var/lib/dpkg/status": "Package: openssh-server\nStatus: install ok installed\nVersion: 1:9.2p1-2\n"})
	p, err := profile.Parse([]byte("ssh:\n  crypto_require: [mlkem768x25519-sha256]\n"))
	if err != nil {
		t.Fatal(err)
	}
	env.Profile = p
	before, _ := env.Root.ReadFile(SSHDConfig)
	_, err = (SSH{}).Apply(context.Background(), env)
	if err == nil || !strings.Contains(err.Error(), "mlkem768x25519-sha256 is not known to the target's OpenSSH 9.2") {
		t.Fatalf("err = %v", err)
	}
	if after, _ := env.Root.ReadFile(SSHDConfig); string(after) != string(before) {
		t.Error("sshd_config changed")
	}
}
