package profile

import (
	"strings"
	"testing"
)

// The default profile's comment above skip: names every step, in order, so
// a user reading `hardbake profile` sees what can be skipped.
func TestDefaultSkipCommentNamesEveryStep(t *testing.T) {
	head, _, ok := strings.Cut(DefaultYAML, "\nskip:")
	if !ok {
		t.Fatal("no skip: key in the default profile")
	}
	comment := strings.Join(strings.Fields(strings.ReplaceAll(head, "#", " ")), " ")
	want := strings.Join(StepNames, ", ")
	if !strings.Contains(comment, want) {
		t.Errorf("the comment above skip: does not list the steps %q:\n%s", want, head)
	}
}
