package profile

// Files configures the files step.
type Files struct{}

func (v *validator) files(c *Files) {}
