package sshaudit

import "testing"

// An excerpt of ssh-audit 2.5.0's output for Debian 12's stock sshd (booted
// base image): a verdict per line, continuation lines included.
const stockExcerpt = "# key exchange algorithms\n" +
	"(kex) curve25519-sha256                     -- [info] available since OpenSSH 7.4, Dropbear SSH 2018.76\n" +
	"(kex) sntrup761x25519-sha512@openssh.com    -- [warn] using experimental algorithm\n" +
	"(kex) ecdh-sha2-nistp256                    -- [fail] using weak elliptic curves\n" +
	"(key) ecdsa-sha2-nistp256                   -- [fail] using weak elliptic curves\n" +
	"                                            `- [warn] using weak random number generator could reveal the key\n" +
	"(mac) umac-64@openssh.com                   -- [warn] using encrypt-and-MAC mode\n" +
	"                                            `- [warn] using small 64-bit tag size\n"

func TestCount(t *testing.T) {
	for _, c := range []struct {
		out          string
		fails, warns int
	}{
		{stockExcerpt, 2, 4},
		{"(kex) curve25519-sha256 -- [info] available since OpenSSH 7.4\n", 0, 0},
		{"", 0, 0},
	} {
		if f, w := Count(c.out); f != c.fails || w != c.warns {
			t.Errorf("Count = %d fail, %d warn; want %d, %d in:\n%s", f, w, c.fails, c.warns, c.out)
		}
	}
}
