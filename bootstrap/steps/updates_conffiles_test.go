package steps

import "testing"

// apt-config dump as apt 2.6 prints a list, under either spelling of the key.
func TestDpkgKeepsConffiles(t *testing.T) {
	for _, tc := range []struct {
		dump string
		want bool
	}{
		{"DPkg::Options \"\";\nDPkg::Options:: \"--force-confdef\";\nDPkg::Options:: \"--force-confold\";\n", true},
		{"Dpkg::Options \"\";\nDpkg::Options:: \"--force-confold\";\n", true},
		{"DPkg::Options \"\";\nDPkg::Options:: \"--force-confdef\";\n", false},
		{"APT::Periodic::Unattended-Upgrade \"1\";\n", false},
	} {
		if got := dpkgKeepsConffiles(aptConfigDump(tc.dump)); got != tc.want {
			t.Errorf("dpkgKeepsConffiles(%q) = %v, want %v", tc.dump, got, tc.want)
		}
	}
}
