// Package profile is hardbake's configuration: what to harden and how. It is
// YAML (gopkg.in/yaml.v3), strict (unknown keys are errors), and validated in
// one pass that reports every problem with its field path and line.
package profile

import (
	_ "embed"
	"fmt"
)

// DefaultYAML is the commented default profile that `hardbake profile` prints.
// Default() is decoded from it, so the documentation cannot drift from the
// code.
//
//go:embed default.yaml
var DefaultYAML string

// Profile is the whole configuration.
type Profile struct {
	Skip     []string `yaml:"skip"`
	SSH      SSH      `yaml:"ssh"`
	Updates  Updates  `yaml:"updates"`
	Services Services `yaml:"services"`
	Kernel   Kernel   `yaml:"kernel"`
	Accounts Accounts `yaml:"accounts"`
	Logging  Logging  `yaml:"logging"`
	Mounts   Mounts   `yaml:"mounts"`
	Files    Files    `yaml:"files"`
	TimeSync TimeSync `yaml:"timesync"`
	MAC      MAC      `yaml:"mac"`
	Fail2ban Fail2ban `yaml:"fail2ban"`
	Firewall Firewall `yaml:"firewall"`
	Audit    Audit    `yaml:"audit"`
	Seal     Seal     `yaml:"seal"`
	// Monitoring is the audit timer for Prometheus (the monitoring step).
	Monitoring Monitoring `yaml:"monitoring"`
}

// SSH configures the sshd step.
type SSH struct {
	PermitRootLogin        string `yaml:"permit_root_login"`
	PasswordAuthentication bool   `yaml:"password_authentication"`
	AddressFamily          string `yaml:"address_family"`
	Ports                  []int  `yaml:"ports"`
	MaxAuthTries           int    `yaml:"max_auth_tries"`
	LoginGraceTime         int    `yaml:"login_grace_time"`
	X11Forwarding          bool   `yaml:"x11_forwarding"`
	// TCPForwarding and AgentForwarding turn sshd's port and agent
	// forwarding on; with all three forwardings off sshd also gets
	// DisableForwarding yes.
	TCPForwarding   bool `yaml:"tcp_forwarding"`
	AgentForwarding bool `yaml:"agent_forwarding"`
	// MaxSessions is sessions per connection (multiplexing).
	MaxSessions int `yaml:"max_sessions"`
	// MaxStartups is sshd's start:rate:full limit of unauthenticated
	// connections.
	MaxStartups string `yaml:"max_startups"`
	// ClientAliveInterval and ClientAliveCountMax drop dead connections:
	// after Interval seconds of silence sshd asks, and gives up after
	// CountMax unanswered asks.
	ClientAliveInterval int `yaml:"client_alive_interval"`
	ClientAliveCountMax int `yaml:"client_alive_count_max"`
	// LogLevel is INFO or VERBOSE.
	LogLevel string `yaml:"log_level"`
	// Banner is the text of /etc/issue.net, shown before login; "" shows none.
	Banner string `yaml:"banner"`
	// LimitGroups writes AllowGroups: the admin group, AllowGroups and the
	// build user's group may log in.
	LimitGroups bool     `yaml:"limit_groups"`
	AllowGroups []string `yaml:"allow_groups"`
	// HostKeyTypes are the host keys firstboot makes when missing, in order.
	HostKeyTypes []string `yaml:"host_key_types"`
	// Crypto picks KexAlgorithms, Ciphers, MACs and HostKeyAlgorithms for
	// the target's OpenSSH version: modern, compatible or off.
	Crypto string `yaml:"crypto"`
	// CryptoRequire are algorithms clients need that stay offered whatever
	// Crypto chooses.
	CryptoRequire []string `yaml:"crypto_require"`
}

// AddressFamilies are the values sshd's AddressFamily accepts.
var AddressFamilies = []string{"any", "inet", "inet6"}

// LogLevels are the sshd LogLevel values ssh.log_level accepts: the ones
// that log every login (CIS).
var LogLevels = []string{"INFO", "VERBOSE"}

// HostKeyTypes are the values ssh.host_key_types accepts (ssh-keygen -t).
var HostKeyTypes = []string{"ed25519", "ecdsa", "rsa"}

// Default returns the default profile: DefaultYAML decoded, a new value
// on every call.
func Default() *Profile {
	p, err := decodeOnto(&Profile{}, []byte(DefaultYAML), "built-in default profile")
	if err != nil {
		panic(fmt.Sprintf("built-in default profile is invalid: %v", err))
	}
	return p
}
