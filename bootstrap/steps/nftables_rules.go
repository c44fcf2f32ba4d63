package steps

import (
	"fmt"
	"strings"

	"github.com/hardbake/hardbake/bootstrap/distro"
)

// NftablesRules is hardbake's own table; the distribution's main nftables
// file includes it from a managed block.
const NftablesRules = "/etc/nftables.d/hardbake.nft"

// nftablesMain is the file nftables.service loads.
func nftablesMain(d distro.Info) string {
	if d.Family == distro.Fedora || d.Family == distro.RHEL {
		return "/etc/sysconfig/nftables.conf"
	}
	return "/etc/nftables.conf"
}

// Managed block markers around the include line in a file we do not own.
const (
	nftBlockBegin = "# BEGIN hardbake (managed; rewritten on every bake)"
	nftBlockEnd   = "# END hardbake"
)

// nftablesRuleset renders the table. A separate inet table with its own
// input hook is judged independently of other tables (Debian's accept-all
// "inet filter", fail2ban's f2b-table): a packet must pass every base chain,
// so our drop policy holds whatever else is loaded. "table; delete table;
// table {..}" replaces just our table atomically on reload, without the
// "flush ruleset" that would drop fail2ban's bans.
func nftablesRuleset(sshPorts, tcp, udp []int) string {
	var b strings.Builder
	b.WriteString(`#!/usr/sbin/nft -f
# Written by hardbake; rewritten on every bake. Default-deny inbound for IPv4
# and IPv6; open more ports with the profile's firewall.allow_tcp/allow_udp.
table inet hardbake
delete table inet hardbake

table inet hardbake {
	chain input {
		type filter hook input priority filter; policy drop;
		iif "lo" accept
		ct state established,related accept
		# Neighbour discovery, router adverts and MLD come before the
		# invalid-state drop: conntrack does not track them.
		meta l4proto ipv6-icmp icmpv6 type { destination-unreachable, packet-too-big, time-exceeded, parameter-problem, echo-request, nd-router-advert, nd-neighbor-solicit, nd-neighbor-advert, mld-listener-query } accept
		ct state invalid drop
		meta l4proto icmp icmp type { destination-unreachable, time-exceeded, parameter-problem, echo-request } accept
		ip6 saddr fe80::/10 udp sport 547 udp dport 546 accept comment "DHCPv6 replies"
`)
	fmt.Fprintf(&b, "\t\ttcp dport { %s } accept comment \"ssh (the ports sshd listens on)\"\n", joinInts(sshPorts, ", "))
	if len(tcp) > 0 {
		fmt.Fprintf(&b, "\t\ttcp dport { %s } accept comment \"firewall.allow_tcp\"\n", joinInts(tcp, ", "))
	}
	if len(udp) > 0 {
		fmt.Fprintf(&b, "\t\tudp dport { %s } accept comment \"firewall.allow_udp\"\n", joinInts(udp, ", "))
	}
	b.WriteString("\t}\n}\n")
	return b.String()
}

// withNftInclude returns the main nftables file with our include in a managed
// block at its end (after Debian's "flush ruleset" and its own table), the
// user's lines untouched. An absent file gets the shebang line.
func withNftInclude(text string) string {
	var keep []string
	in := false
	for _, l := range strings.Split(strings.TrimSuffix(text, "\n"), "\n") {
		switch strings.TrimSpace(l) {
		case nftBlockBegin:
			in = true
			continue
		case nftBlockEnd:
			in = false
			continue
		}
		if !in {
			keep = append(keep, l)
		}
	}
	for len(keep) > 0 && strings.TrimSpace(keep[len(keep)-1]) == "" {
		keep = keep[:len(keep)-1]
	}
	if len(keep) == 0 {
		keep = []string{"#!/usr/sbin/nft -f"}
	}
	keep = append(keep, "", nftBlockBegin, fmt.Sprintf("include %q", NftablesRules), nftBlockEnd)
	return strings.Join(keep, "\n") + "\n"
}
