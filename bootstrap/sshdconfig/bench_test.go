package sshdconfig

import "testing"

// debianConfig is Debian 12's stock sshd_config with its comments.
const debianConfig = `
#	$OpenBSD: sshd_config,v 1.103 2018/04/09 20:41:22 tj Exp $

# This is the sshd server system-wide configuration file.  See
# sshd_config(5) for more information.

Include /etc/ssh/sshd_config.d/*.conf

#Port 22
#AddressFamily any
#ListenAddress 0.0.0.0
#ListenAddress ::

#HostKey /etc/ssh/ssh_host_rsa_key
#HostKey /etc/ssh/ssh_host_ecdsa_key
#HostKey /etc/ssh/ssh_host_ed25519_key

# Logging
#SyslogFacility AUTH
#LogLevel INFO

# Authentication:

#LoginGraceTime 2m
#PermitRootLogin prohibit-password
#StrictModes yes
#MaxAuthTries 6
#MaxSessions 10

#PubkeyAuthentication yes

# Expect .ssh/authorized_keys2 to be disregarded by default in future.
#AuthorizedKeysFile	.ssh/authorized_keys .ssh/authorized_keys2

#AuthorizedPrincipalsFile none

# To disable tunneled clear text passwords, change to no here!
#PasswordAuthentication yes
#PermitEmptyPasswords no

# Change to yes to enable challenge-response passwords (beware issues with
# some PAM modules and threads)
KbdInteractiveAuthentication no

UsePAM yes

#AllowAgentForwarding yes
#AllowTcpForwarding yes
#GatewayPorts no
X11Forwarding yes
#X11DisplayOffset 10
#X11UseLocalhost yes
#PermitTTY yes
PrintMotd no
#PrintLastLog yes
#TCPKeepAlive yes
#PermitUserEnvironment no
#Compression delayed
#ClientAliveInterval 0
#ClientAliveCountMax 3
#UseDNS no
#PidFile /run/sshd.pid
#MaxStartups 10:30:100
#PermitTunnel no
#ChrootDirectory none
#VersionAddendum none

# no default banner path
#Banner none

# Allow client to pass locale environment variables
AcceptEnv LANG LC_*

# override default of no subsystems
Subsystem	sftp	/usr/lib/openssh/sftp-server

# Example of overriding settings on a per-user basis
#Match User anoncvs
#	X11Forwarding no
#	AllowTcpForwarding no
#	PermitTTY no
#	ForceCommand cvs server
`

func BenchmarkLoad(b *testing.B) {
	fsys := mapFS{
		mainPath: debianConfig,
		"/etc/ssh/sshd_config.d/00-hardbake.conf": "PermitRootLogin no\nPasswordAuthentication no\nKbdInteractiveAuthentication no\n" +
			"MaxAuthTries 3\nLoginGraceTime 30\nAllowGroups sshusers\nX11Forwarding no\n",
		"/etc/ssh/sshd_config.d/50-cloud-init.conf": "PasswordAuthentication yes\n",
		"/etc/ssh/sshd_config.d/60-site.conf": "Port 2222\nClientAliveInterval 300\nClientAliveCountMax 2\n" +
			"Match Group sftponly\n\tChrootDirectory %h\n\tForceCommand internal-sftp\n\tAllowTcpForwarding no\n",
	}
	b.ReportAllocs()
	for b.Loop() {
		e, err := Load(fsys, mainPath)
		if err != nil {
			b.Fatal(err)
		}
		if v, _ := e.Get("passwordauthentication"); v.Args[0] != "no" {
			b.Fatal("wrong effective value")
		}
	}
}
