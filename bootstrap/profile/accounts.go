package profile

// Accounts configures the accounts step.
type Accounts struct{}

func (v *validator) accounts(c *Accounts) {}
