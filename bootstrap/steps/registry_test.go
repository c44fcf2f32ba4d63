package steps

import (
	"slices"
	"testing"

	"github.com/hardbake/hardbake/bootstrap/profile"
)

func TestRegistryOrderAndProfileNames(t *testing.T) {
	want := []string{"ssh", "updates", "services", "fail2ban", "firewall", "firstboot", "seal"}
	if !slices.Equal(Names(), want) {
		t.Fatalf("registry %v, want %v", Names(), want)
	}
	if !slices.Equal(profile.StepNames, Names()) {
		t.Fatalf("profile.StepNames %v drifted from the registry %v", profile.StepNames, Names())
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
