package profile

// Kernel configures the kernel step.
type Kernel struct{}

func (v *validator) kernel(c *Kernel) {}
