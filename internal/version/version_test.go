package version

import "testing"

func TestOverride(t *testing.T) {
	old := Override
	defer func() { Override = old }()
	Override = "v9.8.7"
	if got := Module(); got != "v9.8.7" {
		t.Fatalf("Module() = %q with Override set", got)
	}
	Override = ""
	if got := Module(); got == "" {
		t.Fatal("Module() is empty")
	}
}
