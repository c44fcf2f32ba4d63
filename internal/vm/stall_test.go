package vm

import (
	"testing"
	"time"
)

// TestStallWatch: a console that keeps growing is never reset; one silent
// for the whole period is reset once, and only once; negative never resets.
func TestStallWatch(t *testing.T) {
	t0 := time.Unix(1000, 0)
	w := newStallWatch(0, 10, t0)
	for i := 1; i <= 10; i++ {
		if w.observe(int64(10+i), t0.Add(time.Duration(i)*time.Minute)) {
			t.Fatal("reset while the console grows")
		}
	}
	now := t0.Add(10 * time.Minute)
	if w.observe(20, now.Add(2*time.Minute)) {
		t.Fatal("reset before three silent minutes")
	}
	if !w.observe(20, now.Add(3*time.Minute)) {
		t.Fatal("no reset after three silent minutes")
	}
	if w.observe(20, now.Add(30*time.Minute)) {
		t.Fatal("reset twice")
	}
	never := newStallWatch(-1, 0, t0)
	if never.observe(0, t0.Add(time.Hour)) {
		t.Fatal("reset although disabled")
	}
}
