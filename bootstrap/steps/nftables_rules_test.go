package steps

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestNftablesRulesetLoads: the kernel accepts the table (nft -c checks the
// transaction with the kernel and aborts it), also when loaded twice in a
// row, which is what a reload does.
func TestNftablesRulesetLoads(t *testing.T) {
	nft, err := exec.LookPath("nft")
	if err != nil || os.Geteuid() != 0 {
		t.Skip("needs root and nft")
	}
	dir := t.TempDir()
	rules := nftablesRuleset([]int{22, 2222}, []int{80, 443}, []int{51820})
	file := filepath.Join(dir, "hardbake.nft")
	os.WriteFile(file, []byte(rules+"\n"+rules), 0o644)
	if out, err := exec.Command(nft, "-c", "-f", file).CombinedOutput(); err != nil {
		t.Fatalf("nft -c: %v\n%s\n%s", err, out, rules)
	}
	bad := strings.Replace(rules, "policy drop", "policy dorp", 1)
	os.WriteFile(file, []byte(bad), 0o644)
	if err := exec.Command(nft, "-c", "-f", file).Run(); err == nil {
		t.Fatal("nft -c accepted a broken ruleset: the validation would prove nothing")
	}
}

func TestNftIncludeBlockIsReplaced(t *testing.T) {
	once := withNftInclude("#!/usr/sbin/nft -f\nflush ruleset\n")
	if twice := withNftInclude(once); twice != once {
		t.Fatalf("not idempotent:\n%s\n---\n%s", once, twice)
	}
	if !strings.HasPrefix(once, "#!/usr/sbin/nft -f\nflush ruleset\n\n# BEGIN hardbake") {
		t.Fatalf("user's lines not kept first:\n%s", once)
	}
	if got := withNftInclude(""); !strings.HasPrefix(got, "#!/usr/sbin/nft -f\n") {
		t.Fatalf("new file: %s", got)
	}
}

func TestAptConfigDump(t *testing.T) {
	out := `Unattended-Upgrade "";
Unattended-Upgrade::Origins-Pattern "";
Unattended-Upgrade::Origins-Pattern:: "origin=Debian,codename=${distro_codename}-security,label=Debian-Security";
APT::Periodic::Unattended-Upgrade "1";
`
	m := aptConfigDump(out)
	if got := m["Unattended-Upgrade::Origins-Pattern::"]; len(got) != 1 || !strings.Contains(got[0], "-security") {
		t.Fatalf("origins: %q", got)
	}
	if m["APT::Periodic::Unattended-Upgrade"][0] != "1" {
		t.Fatalf("periodic: %v", m)
	}
}

func TestPortsFromSSHDT(t *testing.T) {
	m := parseSSHDT([]byte("port 2222\nlistenaddress [::]:2222\nlistenaddress 0.0.0.0:2222\nlistenaddress 10.0.0.1:2200\n"))
	if got := joinInts(portsFromSSHDT(m), ","); got != "2200,2222" {
		t.Fatalf("got %s", got)
	}
	if got := joinInts(portsFromSSHDT(parseSSHDT([]byte("port 22\n"))), ","); got != "22" {
		t.Fatalf("got %s", got)
	}
}
