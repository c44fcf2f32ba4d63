package profile

// MAC configures the mac step.
type MAC struct{}

func (v *validator) mac(c *MAC) {}
