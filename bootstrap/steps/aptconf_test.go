package steps

import (
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/hardbake/hardbake/bootstrap/distro"
	"github.com/hardbake/hardbake/bootstrap/profile"
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
	// Ubuntu 22.04's shipped 50unattended-upgrades (the fixture) with the
	// file hardbake writes on top: apt itself must see only the security
	// pockets in Allowed-Origins.
	for _, name := range []string{"ubuntu2204", "ubuntu2404"} {
		fixture, err := root.Dir(filepath.Join("testdata/roots", name))
		if err != nil {
			t.Fatal(err)
		}
		d, err := distro.Detect(fixture)
		if err != nil {
			t.Fatal(err)
		}
		shipped, err := fixture.ReadFile("/etc/apt/apt.conf.d/50unattended-upgrades")
		if err != nil {
			t.Fatal(err)
		}
		auto, err := fixture.ReadFile("/etc/apt/apt.conf.d/20auto-upgrades")
		if err != nil {
			t.Fatal(err)
		}
		cases = append(cases, struct {
			name  string
			files map[string]string
		}{name + " shipped + hardbake", map[string]string{
			"20auto-upgrades":                     string(auto),
			"50unattended-upgrades":               string(shipped),
			filepath.Base(UnattendedUpgradesConf): unattendedUpgradesConfig(d, profile.Default().Updates),
		}})
	}
	keys := []string{"Unattended-Upgrade::Origins-Pattern::", "Unattended-Upgrade::Allowed-Origins::", "APT::Periodic::Update-Package-Lists", "APT::Periodic::Unattended-Upgrade", "Unattended-Upgrade::Automatic-Reboot", "Unattended-Upgrade::Automatic-Reboot-Time"}
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
			if strings.HasSuffix(c.name, "shipped + hardbake") {
				origins := real["Unattended-Upgrade::Allowed-Origins::"]
				if len(origins) == 0 {
					t.Errorf("apt sees no Allowed-Origins")
				}
				for _, o := range origins {
					if !strings.HasSuffix(o, "-security") {
						t.Errorf("apt sees a non-security origin %q in %q", o, origins)
					}
				}
			}
			if seen == 0 {
				t.Fatalf("apt-config dump printed none of the keys:\n%s", out)
			}
		})
	}
}
