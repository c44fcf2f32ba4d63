package profile

import "testing"

func TestMACProfile(t *testing.T) {
	if d := Default().MAC; !d.Enabled || !d.BootParameters {
		t.Errorf("default mac: %+v", d)
	}
	p, err := Parse([]byte("mac:\n  boot_parameters: false\n"))
	if err != nil || !p.MAC.Enabled || p.MAC.BootParameters {
		t.Errorf("mac: %+v, %v", p.MAC, err)
	}
	badProfile(t, "mac:\n  enabled: enforcing\n", `mac.enabled (line 2): must be true or false, got "enforcing"`)
	badProfile(t, "mac:\n  selinux: true\n", `mac.selinux (line 2): unknown key; allowed here: boot_parameters, enabled`)
}
