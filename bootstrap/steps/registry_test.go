package steps

import (
	"slices"
	"testing"

	"github.com/hardbake/hardbake/bootstrap/profile"
)

// TestRegistryNamesAreTheProfiles: profile.StepNames is the one list of step
// names (in bake order) that profiles and the Packer plugin validate against
// without linking the steps; the registry must hold exactly those steps, in
// that order, so neither can drift from the other.
func TestRegistryNamesAreTheProfiles(t *testing.T) {
	if !slices.Equal(Names(), profile.StepNames) {
		t.Fatalf("registry %v, profile.StepNames %v: add or remove the step in both", Names(), profile.StepNames)
	}
}

func TestSealOnlyWhenAsked(t *testing.T) {
	names := func(s []Step) []string {
		var out []string
		for _, x := range s {
			out = append(out, x.Name())
		}
		return out
	}
	all, _ := Select(nil, nil)
	if slices.Contains(names(all), "seal") {
		t.Fatalf("plain selection includes seal: %v", names(all))
	}
	only, _ := Select([]string{"seal"}, nil)
	if !slices.Equal(names(only), []string{"seal"}) {
		t.Fatalf("--only seal: %v", names(only))
	}
}
