package profile

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/hardbake/hardbake/bootstrap"
)

func TestSectionDefaults(t *testing.T) {
	p := Default()
	if !p.Updates.Upgrade || !p.Updates.Automatic || p.Updates.AutomaticReboot || p.Updates.LockTimeout != 600 {
		t.Errorf("updates: %+v", p.Updates)
	}
	for _, pkg := range []string{"exim4-daemon-light", "rpcbind"} {
		if !slices.Contains(p.Services.Remove, pkg) {
			t.Errorf("services.remove lacks %s", pkg)
		}
	}
	if p.Fail2ban.MaxRetry != 5 || p.Fail2ban.BanTime != 3600 || p.Firewall.Backend != "auto" || p.Seal.OnBake {
		t.Errorf("defaults: %+v %+v %+v", p.Fail2ban, p.Firewall, p.Seal)
	}
}

func TestBadSectionValues(t *testing.T) {
	cases := []struct {
		name, yaml string
		want       []string
	}{
		{"unknown step", "skip: [ssh, sshd]\n",
			[]string{`skip[1] (line 1): unknown step "sshd"; steps are: ` + strings.Join(StepNames, ", ")}},
		{"firewall port", "firewall:\n  allow_tcp: [443, 70000]\n",
			[]string{`firewall.allow_tcp[1] (line 2): 70000 is out of range 1-65535`}},
		{"udp duplicate", "firewall:\n  allow_udp: [53, 53]\n",
			[]string{`firewall.allow_udp[1] (line 2): port 53 is listed twice`}},
		{"backend", "firewall:\n  backend: iptables\n",
			[]string{`firewall.backend (line 2): "iptables" is not one of auto, nftables, firewalld, ufw`}},
		{"remove sshd", "services:\n  remove: [rpcbind, openssh-server]\n",
			[]string{`services.remove[1] (line 2): "openssh-server" is never removed: the SSH server is the way into the machine`}},
		{"remove cloud-init", "services:\n  remove:\n    - cloud-init\n",
			[]string{`services.remove[0] (line 3): "cloud-init" is never removed: cloud-init applies`}},
		{"remove fail2ban", "services:\n  remove: [fail2ban]\n",
			[]string{`services.remove[0] (line 2): "fail2ban" is never removed`}},
		{"remove time sync", "services:\n  remove: [chrony, systemd-timesyncd]\n",
			[]string{`services.remove[0] (line 2): "chrony" is never removed: time synchronisation`,
				`services.remove[1] (line 2): "systemd-timesyncd" is never removed: time synchronisation`}},
		{"remove and keep", "services:\n  remove: [rpcbind]\n  keep: [rpcbind]\n",
			[]string{`services.remove[0] (line 2): "rpcbind" is also in services.keep`}},
		{"bad package name", "services:\n  remove: [\"rm -rf\"]\n",
			[]string{`services.remove[0] (line 2): "rm -rf" is not a package name`}},
		{"max retry", "fail2ban:\n  max_retry: 0\n",
			[]string{`fail2ban.max_retry (line 2): 0 is out of range 1-100`}},
		{"ban time", "fail2ban:\n  ban_time: 5\n",
			[]string{`fail2ban.ban_time (line 2): 5 is out of range 60-31536000`}},
		{"ignore ip", "fail2ban:\n  ignore_ip: [10.0.0.0/8, bastion]\n",
			[]string{`fail2ban.ignore_ip[1] (line 2): "bastion" is not an IP address or CIDR prefix`}},
		{"reboot time", "updates:\n  reboot_time: \"25:00\"\n",
			[]string{`updates.reboot_time (line 2): "25:00" is not a time of day HH:MM`}},
		{"lock timeout", "updates:\n  lock_timeout: -1\n",
			[]string{`updates.lock_timeout (line 2): -1 is out of range 0-3600`}},
		{"remove root", "seal:\n  remove_user: root\n",
			[]string{`seal.remove_user (line 2): "root" cannot be removed`}},
		{"bad user", "seal:\n  remove_user: \"Bad User\"\n",
			[]string{`seal.remove_user (line 2): "Bad User" is not a user name`}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse([]byte(c.yaml))
			if !errors.Is(err, bootstrap.ErrInvalid) {
				t.Fatalf("got %v", err)
			}
			var pe *Error
			errors.As(err, &pe)
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
