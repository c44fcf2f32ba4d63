package steps

import (
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/hardbake/hardbake/bootstrap/root"
)

// TestOfflineAptConfigMatchesAptConfig: for each set of apt.conf.d
// fragments the offline parser (audit --image) must compute what the real
// `apt-config dump` prints for the keys the updates checks read.
func TestOfflineAptConfigMatchesAptConfig(t *testing.T) {
	if _, err := exec.LookPath("apt-config"); err != nil {
		t.Skip("apt-config not installed")
	}
	debianDefault := "Unattended-Upgrade::Origins-Pattern {\n        \"origin=Debian,codename=${distro_codename},label=Debian\";\n        \"origin=Debian,codename=${distro_codename}-security,label=Debian-Security\";\n};\n// Unattended-Upgrade::Automatic-Reboot \"false\";\n"
	cases := []struct {
		name  string
		files map[string]string
	}{
		{"debian default", map[string]string{"50unattended-upgrades": debianDefault}},
		{"clear and replace", map[string]string{
			"50unattended-upgrades": debianDefault,
			"52hardbake":            "#clear Unattended-Upgrade::Origins-Pattern;\nUnattended-Upgrade::Origins-Pattern:: \"origin=Debian,codename=${distro_codename}-security,label=Debian-Security\";\n",
		}},
		{"later scalar wins, keys ignore case", map[string]string{
			"20auto-upgrades": "APT::Periodic::Update-Package-Lists \"1\";\nAPT::Periodic::Unattended-Upgrade \"1\";\n",
			"90local":         "apt::periodic::unattended-upgrade \"0\"; // turned off\n",
		}},
		{"nested blocks and comments", map[string]string{
			"10x": "/* c */ APT { Periodic { Update-Package-Lists \"1\"; Unattended-Upgrade \"1\"; }; };\n# a comment\nUnattended-Upgrade::Automatic-Reboot \"true\";\nUnattended-Upgrade::Automatic-Reboot-Time \"02:00\";\n",
		}},
		{"ignored file names", map[string]string{
			"20auto-upgrades":          "APT::Periodic::Unattended-Upgrade \"1\";\n",
			"20auto-upgrades.dpkg-old": "APT::Periodic::Unattended-Upgrade \"0\";\n",
			"30x.ucf-dist":             "Unattended-Upgrade::Automatic-Reboot \"true\";\n",
			"40y.conf":                 "Unattended-Upgrade::Automatic-Reboot \"false\";\n",
		}},
		{"list items accumulate across files", map[string]string{
			"50a": "Unattended-Upgrade::Origins-Pattern { \"a\"; };\n",
			"60b": "Unattended-Upgrade::Origins-Pattern:: \"b\";\nUnattended-Upgrade::Origins-Pattern { \"c\"; };\n",
		}},
	}
	keys := []string{"Unattended-Upgrade::Origins-Pattern::", "APT::Periodic::Update-Package-Lists", "APT::Periodic::Unattended-Upgrade", "Unattended-Upgrade::Automatic-Reboot", "Unattended-Upgrade::Automatic-Reboot-Time"}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			parts := filepath.Join(dir, "etc/apt/apt.conf.d")
			os.MkdirAll(parts, 0o755)
			for n, body := range c.files {
				os.WriteFile(filepath.Join(parts, n), []byte(body), 0o644)
			}
			// APT_CONFIG moves apt's Dir, so its parts come from the temp root.
			cfg := filepath.Join(dir, "apt-config.conf")
			os.WriteFile(cfg, []byte(`Dir "`+dir+`/";`+"\n"), 0o644)
			cmd := exec.Command("apt-config", "dump")
			cmd.Env = append(os.Environ(), "APT_CONFIG="+cfg)
			out, err := cmd.Output()
			if err != nil {
				t.Fatal(err)
			}
			real := aptConfigDump(string(out))
			r, _ := root.Dir(dir)
			offline := offlineAptConfig(r)
			seen := 0
			for _, k := range keys {
				seen += len(real[k])
				if !reflect.DeepEqual(real[k], offline[k]) {
					t.Errorf("%s: apt-config dump %q, offline %q", k, real[k], offline[k])
				}
			}
			if seen == 0 {
				t.Fatalf("apt-config dump printed none of the keys:\n%s", out)
			}
		})
	}
}
