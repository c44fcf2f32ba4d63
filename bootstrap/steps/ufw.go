package steps

import (
	"fmt"
	"strings"

	"github.com/hardbake/hardbake/bootstrap/report"
)

// ufw keeps its rules in /etc/ufw/user*.rules and its switches in
// /etc/ufw/ufw.conf and /etc/default/ufw. `ufw allow` and `ufw default` only
// edit those files while ufw is disabled, so they are safe under --root;
// `ufw enable` would load rules into the host's kernel, so under --root the
// switch is set in ufw.conf and ufw.service enabled instead.

const (
	ufwConf     = "/etc/ufw/ufw.conf"
	ufwDefaults = "/etc/default/ufw"
	ufwRules    = "/etc/ufw/user.rules"
)

func ufwPorts(ssh, tcp, udp []int) []string {
	return firewalldPorts(ssh, tcp, udp) // same "port/proto" spelling
}

// ufwAllowed reports whether user.rules allows port/proto from anywhere.
func ufwAllowed(rules, portProto string) bool {
	port, proto, _ := strings.Cut(portProto, "/")
	return strings.Contains(rules, fmt.Sprintf("### tuple ### allow %s %s 0.0.0.0/0 any 0.0.0.0/0 in", proto, port))
}

func ufwActions(env *Env, ssh, tcp, udp []int) ([]Action, error) {
	var actions []Action
	defaults, _ := env.Root.ReadFile(ufwDefaults)
	if !strings.Contains(string(defaults), `DEFAULT_INPUT_POLICY="DROP"`) {
		actions = append(actions, Action{Kind: "run", Summary: "deny inbound by default", Cmd: cmd("ufw", "default", "deny", "incoming")})
	}
	rules, _ := env.Root.ReadFile(ufwRules)
	for _, p := range ufwPorts(ssh, tcp, udp) {
		if !ufwAllowed(string(rules), p) {
			actions = append(actions, Action{Kind: "run", Summary: "allow " + p, Cmd: cmd("ufw", "allow", p)})
		}
	}
	conf, _ := env.Root.ReadFile(ufwConf)
	if !strings.Contains(string(conf), "\nENABLED=yes") && !strings.HasPrefix(string(conf), "ENABLED=yes") {
		if env.Live() {
			actions = append(actions, Action{Kind: "run", Summary: "turn ufw on", Cmd: cmd("ufw", "--force", "enable")})
		} else {
			text := strings.ReplaceAll(string(conf), "ENABLED=no", "ENABLED=yes")
			if !strings.Contains(text, "ENABLED=yes") {
				text += "ENABLED=yes\n"
			}
			a, err := WriteFile(env.Root, ufwConf, []byte(text), 0o644, "turn ufw on at boot")
			if err != nil {
				return nil, err
			}
			actions = appendAction(actions, a)
		}
	}
	return appendAction(actions, enableAction(env, "start ufw at boot", "ufw.service")), nil
}

func ufwChecks(env *Env, ssh, tcp, udp []int) []report.Check {
	rules, _ := env.Root.ReadFile(ufwRules)
	defaults, _ := env.Root.ReadFile(ufwDefaults)
	conf, _ := env.Root.ReadFile(ufwConf)
	var closed []string
	for _, p := range ufwPorts(ssh, tcp, udp) {
		if !ufwAllowed(string(rules), p) {
			closed = append(closed, p)
		}
	}
	got := "open"
	if len(closed) > 0 {
		got = "closed: " + strings.Join(closed, " ")
	}
	return []report.Check{
		check("firewall.ufw_ports", "open", got),
		check("firewall.ufw_default_input", "DROP", map[bool]string{true: "DROP", false: "not DROP"}[strings.Contains(string(defaults), `DEFAULT_INPUT_POLICY="DROP"`)]),
		check("firewall.ufw_enabled", "yes", yesNo(strings.Contains(string(conf), "ENABLED=yes"))),
	}
}
