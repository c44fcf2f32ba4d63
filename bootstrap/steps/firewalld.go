package steps

import (
	"context"
	"fmt"
	"strings"

	"github.com/hardbake/hardbake/bootstrap/report"
)

// firewalld's default zone already rejects inbound traffic that no service
// or port allows; hardbake adds the ports sshd listens on and the profile's.
// Under --root firewall-offline-cmd edits the permanent configuration
// without a running firewalld; live, firewall-cmd --permanent then --reload.

func firewalldPorts(ssh, tcp, udp []int) []string {
	var out []string
	for _, p := range append(append([]int{}, ssh...), tcp...) {
		out = append(out, fmt.Sprintf("%d/tcp", p))
	}
	for _, p := range udp {
		out = append(out, fmt.Sprintf("%d/udp", p))
	}
	return out
}

func firewalldTool(env *Env) (string, []string) {
	if env.Live() {
		return "firewall-cmd", []string{"--permanent"}
	}
	return "firewall-offline-cmd", nil
}

// firewalldMissing asks firewalld which ports are not open yet.
func firewalldMissing(ctx context.Context, env *Env, ports []string) []string {
	tool, pre := firewalldTool(env)
	var out []string
	for _, p := range ports {
		if _, err := env.Run.Run(ctx, cmd(tool, append(pre, "--query-port="+p)...)); err != nil {
			out = append(out, p)
		}
	}
	return out
}

func firewalldActions(ctx context.Context, env *Env, ssh, tcp, udp []int) ([]Action, error) {
	tool, pre := firewalldTool(env)
	var actions []Action
	for _, p := range firewalldMissing(ctx, env, firewalldPorts(ssh, tcp, udp)) {
		actions = append(actions, Action{Kind: "run", Summary: "open " + p, Cmd: cmd(tool, append(pre, "--add-port="+p)...)})
	}
	actions = appendAction(actions, enableAction(env, "start firewalld at boot", "firewalld.service"))
	if len(actions) == 0 {
		return nil, nil
	}
	actions = append(actions, Action{
		Kind: "validate", Summary: "firewalld accepts its configuration", Cmd: cmd(tool, "--check-config"),
		Validate: func(ctx context.Context) error { _, err := env.Run.Run(ctx, cmd(tool, "--check-config")); return err },
	})
	if env.Live() {
		actions = append(actions, Action{Kind: "run", Summary: "apply the permanent configuration", Cmd: cmd("firewall-cmd", "--reload")})
	}
	return actions, nil
}

func firewalldChecks(ctx context.Context, env *Env, ssh, tcp, udp []int) []report.Check {
	want := firewalldPorts(ssh, tcp, udp)
	miss := firewalldMissing(ctx, env, want)
	got := "open"
	if len(miss) > 0 {
		got = "closed: " + strings.Join(miss, " ")
	}
	return []report.Check{
		check("firewall.firewalld_ports", "open", got),
		check("firewall.enabled_at_boot", "enabled", enabledWord(unitEnabled(env, "firewalld.service"))),
	}
}
