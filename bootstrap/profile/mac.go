package profile

// MAC configures the mac step: mandatory access control enforcing at boot,
// AppArmor on Debian and Ubuntu, SELinux on Fedora and the RHEL family.
type MAC struct {
	// Enabled: AppArmor installed and started at boot, or SELinux
	// enforcing.
	Enabled bool `yaml:"enabled"`
	// BootParameters adds apparmor=1 security=apparmor to the kernel
	// command line through a GRUB drop-in, where GRUB is installed.
	BootParameters bool `yaml:"boot_parameters"`
}

func (v *validator) mac(c *MAC) {}
