package profile

// StepNames are the hardening steps in bake order: the one list a profile's
// skip and the Packer plugin's only_steps/skip_steps are validated against,
// so neither needs to link the steps. bootstrap/steps' registry test keeps
// the registry equal to it.
var StepNames = []string{"ssh", "updates", "services", "kernel", "accounts", "logging", "mounts", "files", "timesync", "mac", "fail2ban", "firewall", "firstboot", "audit", "monitoring", "seal"}

// Updates configures the updates step.
type Updates struct {
	Upgrade         bool   `yaml:"upgrade"`
	Automatic       bool   `yaml:"automatic"`
	AutomaticReboot bool   `yaml:"automatic_reboot"`
	RebootTime      string `yaml:"reboot_time"`
	LockTimeout     int    `yaml:"lock_timeout"`
}

// Services configures the services step.
type Services struct {
	Remove []string `yaml:"remove"`
	Keep   []string `yaml:"keep"`
}

// Fail2ban configures the fail2ban step.
type Fail2ban struct {
	MaxRetry int      `yaml:"max_retry"`
	FindTime int      `yaml:"find_time"`
	BanTime  int      `yaml:"ban_time"`
	IgnoreIP []string `yaml:"ignore_ip"`
}

// Firewall configures the firewall step.
type Firewall struct {
	Backend  string `yaml:"backend"`
	AllowTCP []int  `yaml:"allow_tcp"`
	AllowUDP []int  `yaml:"allow_udp"`
}

// FirewallBackends are the values firewall.backend accepts.
var FirewallBackends = []string{"auto", "nftables", "firewalld", "ufw"}

// Seal configures the seal step.
type Seal struct {
	OnBake       bool   `yaml:"on_bake"`
	RemoveUser   string `yaml:"remove_user"`
	KeepHostname bool   `yaml:"keep_hostname"`
}

// ProtectedPackages may never be removed by the services step: the way in
// (sshd), the clock (TLS, logs and fail2ban's find_time depend on it), the
// first-boot agent, and hardbake's own tools. The value says why.
var ProtectedPackages = map[string]string{
	"openssh-server":        "the SSH server is the way into the machine",
	"openssh":               "the SSH server is the way into the machine",
	"openssh-sftp-server":   "the SSH server is the way into the machine",
	"cloud-init":            "cloud-init applies per-host users, keys and network at first boot",
	"fail2ban":              "fail2ban is part of the hardening",
	"nftables":              "the firewall is part of the hardening",
	"firewalld":             "the firewall is part of the hardening",
	"ufw":                   "the firewall is part of the hardening",
	"unattended-upgrades":   "automatic security updates are part of the hardening",
	"dnf-automatic":         "automatic security updates are part of the hardening",
	"dnf5-plugin-automatic": "automatic security updates are part of the hardening",
	"systemd-timesyncd":     "time synchronisation keeps TLS, logs and bans correct",
	"chrony":                "time synchronisation keeps TLS, logs and bans correct",
	"ntp":                   "time synchronisation keeps TLS, logs and bans correct",
	"ntpsec":                "time synchronisation keeps TLS, logs and bans correct",
	"openntpd":              "time synchronisation keeps TLS, logs and bans correct",
	"systemd":               "the init system",
	"sudo":                  "admins log in as users and use sudo",
}
