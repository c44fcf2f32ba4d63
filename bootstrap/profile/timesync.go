package profile

// TimeSync configures the timesync step.
type TimeSync struct{}

func (v *validator) timesync(c *TimeSync) {}
