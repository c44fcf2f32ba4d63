package profile

// Audit configures the audit step.
type Audit struct{}

func (v *validator) audit(c *Audit) {}
