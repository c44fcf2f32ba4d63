package profile

// Logging configures the logging step.
type Logging struct{}

func (v *validator) logging(c *Logging) {}
