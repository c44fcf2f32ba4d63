package steps

import (
	"fmt"
	"regexp"
	"strings"
	"sync"

	"github.com/hardbake/hardbake/bootstrap"
)

// A packet must pass every input base chain, whatever table it is in: a
// table of someone else's with "policy drop" that allows only port 22 still
// drops a custom SSH port (and the profile's allow_tcp) after hardbake's own
// table accepted it. Arch's nftables package ships exactly such a table in
// /etc/nftables.conf. That stock table is neutralised by commenting it out
// with a marker (restored and re-derived on every bake, like sshd lines);
// any other drop-policy input chain is the admin's and makes the step refuse
// rather than silently leave SSH blocked.

// nftDisabledPrefix marks lines of the main nftables file hardbake commented out.
const nftDisabledPrefix = "#hardbake-disabled: "

// nftTableStart is compiled on first use, not when every command starts.
var nftTableStart = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^\s*table\s+(\S+)\s+(\S+)\s*\{`) })

// nftTable is one top-level table block of a ruleset file (1-based lines, inclusive).
type nftTable struct {
	Family, Name string
	First, Last  int
	Text         string
}

// nftTables finds the top-level table blocks by brace depth, ignoring comments.
func nftTables(text string) []nftTable {
	var out []nftTable
	lines := strings.Split(text, "\n")
	for i := 0; i < len(lines); i++ {
		m := nftTableStart().FindStringSubmatch(stripNftComment(lines[i]))
		if m == nil {
			continue
		}
		t := nftTable{Family: m[1], Name: m[2], First: i + 1}
		depth := 0
		j := i
		for ; j < len(lines); j++ {
			l := stripNftComment(lines[j])
			depth += strings.Count(l, "{") - strings.Count(l, "}")
			if depth <= 0 {
				break
			}
		}
		if j == len(lines) {
			j--
		}
		t.Last = j + 1
		t.Text = strings.Join(lines[i:j+1], "\n")
		out = append(out, t)
		i = j
	}
	return out
}

func stripNftComment(l string) string {
	if i := strings.IndexByte(l, '#'); i >= 0 {
		return l[:i]
	}
	return l
}

// dropsInput reports whether a table has an input hook whose policy is drop.
func (t nftTable) dropsInput() bool {
	body := stripAllNftComments(t.Text)
	return strings.Contains(body, "hook input") && regexp.MustCompile(`policy\s+drop`).MatchString(body)
}

func stripAllNftComments(text string) string {
	var b strings.Builder
	for _, l := range strings.Split(text, "\n") {
		b.WriteString(stripNftComment(l))
		b.WriteByte('\n')
	}
	return b.String()
}

// normalizeNft drops comments, "comment" strings and all white space, so a
// stock table is recognised whatever its indentation.
func normalizeNft(text string) string {
	s := regexp.MustCompile(`comment\s+"[^"]*"`).ReplaceAllString(stripAllNftComments(text), "")
	return strings.Join(strings.Fields(s), "")
}

// archStockFilter is the "table inet filter" of Arch's nftables package
// (/etc/nftables.conf as shipped, nftables 1:1.1.x).
const archStockFilter = `table inet filter {
  chain input {
    type filter hook input priority filter
    policy drop

    ct state invalid drop comment "early drop of invalid connections"
    ct state {established, related} accept comment "allow tracked connections"
    iif lo accept comment "allow from loopback"
    ip protocol icmp accept comment "allow icmp"
    meta l4proto ipv6-icmp accept comment "allow icmp v6"
    tcp dport ssh accept comment "allow sshd"
    pkttype host limit rate 5/second counter reject with icmpx type admin-prohibited
    counter
  }
  chain forward {
    type filter hook forward priority filter
    policy drop
  }
}`

// restoreNftDisabled undoes neutraliseStockFilter.
func restoreNftDisabled(text string) string {
	lines := strings.Split(text, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimPrefix(l, nftDisabledPrefix)
	}
	return strings.Join(lines, "\n")
}

// neutraliseStockFilter returns the main nftables file with the
// distribution's stock drop-policy table commented out (true when it did),
// or an error naming a drop-policy input table that is not stock.
func neutraliseStockFilter(path, text string) (string, bool, error) {
	text = restoreNftDisabled(text)
	lines := strings.Split(text, "\n")
	changed := false
	for _, t := range nftTables(text) {
		if t.Family == "inet" && t.Name == "hardbake" || !t.dropsInput() {
			continue
		}
		if normalizeNft(t.Text) != normalizeNft(archStockFilter) {
			return "", false, fmt.Errorf("%w: %s:%d: table %s %s drops inbound traffic by policy; hardbake's table cannot open the SSH port or firewall.allow_tcp through it (a packet must pass every input chain). Remove that table or give its input chain policy accept, then bake again",
				bootstrap.ErrInvalid, path, t.First, t.Family, t.Name)
		}
		for i := t.First - 1; i < t.Last; i++ {
			lines[i] = nftDisabledPrefix + lines[i]
		}
		changed = true
	}
	return strings.Join(lines, "\n"), changed, nil
}

// otherDropTables names the drop-policy input tables of the main file other
// than hardbake's (commented-out ones do not count), for audit.
func otherDropTables(text string) string {
	var out []string
	for _, t := range nftTables(text) {
		if !(t.Family == "inet" && t.Name == "hardbake") && t.dropsInput() {
			out = append(out, fmt.Sprintf("table %s %s (line %d) may block the SSH port", t.Family, t.Name, t.First))
		}
	}
	if len(out) == 0 {
		return "none"
	}
	return strings.Join(out, "; ")
}
