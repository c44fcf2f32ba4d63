package steps

import (
	"slices"
	"testing"

	"github.com/hardbake/hardbake/bootstrap/distro"
	"github.com/hardbake/hardbake/bootstrap/profile"
	"github.com/hardbake/hardbake/bootstrap/root"
)

// `nft list ruleset` as nft 1.0.6 prints Debian's stock table beside ours.
const listedRuleset = `table inet filter {
	chain input {
		type filter hook input priority filter; policy accept;
	}

	chain forward {
		type filter hook forward priority filter; policy accept;
	}

	chain output {
		type filter hook output priority filter; policy accept;
	}
}
table inet hardbake {
	chain input {
		type filter hook input priority filter; policy drop;
		iif "lo" accept
	}
}
`

func TestBaseChainHooks(t *testing.T) {
	for _, tc := range []struct{ ruleset, want string }{
		{listedRuleset, "input forward output"},
		{"table inet hardbake {\n\tchain input {\n\t\ttype filter hook input priority filter; policy drop;\n\t}\n}\n", "input"},
		{"", "none"},
	} {
		if got := baseChainHooks(tc.ruleset); got != tc.want {
			t.Errorf("baseChainHooks = %q, want %q\n%s", got, tc.want, tc.ruleset)
		}
	}
}

func TestFirewallDeviations(t *testing.T) {
	for _, tc := range []struct {
		backend string
		want    []string
	}{
		{"auto", []string{"ssg:package_ufw_installed", "ssg:set_nftables_base_chain"}},
		{"ufw", nil},
		{"firewalld", []string{"ssg:package_ufw_installed"}},
	} {
		p := profile.Default()
		p.Firewall.Backend = tc.backend
		r, err := root.Dir(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		env := &Env{Root: r, Profile: p, Distro: distro.Info{Firewall: "nftables"}}
		var got []string
		for _, d := range (Firewall{}).Deviations(env) {
			got = append(got, d.Refs...)
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("backend %s: deviations %v, want %v", tc.backend, got, tc.want)
		}
	}
}
