package profile

// Mounts configures the mounts step.
type Mounts struct{}

func (v *validator) mounts(c *Mounts) {}
