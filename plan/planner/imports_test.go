package planner

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// deps lists the transitive dependencies of a package with whether each is
// in the standard library, as `go list -deps` reports them.
func deps(t *testing.T, pkg string) map[string]bool {
	t.Helper()
	cmd := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}} {{.Standard}}", pkg)
	cmd.Dir = "../.."
	out, err := cmd.Output()
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			t.Fatalf("go list -deps %s: %v\n%s", pkg, err, ee.Stderr)
		}
		t.Fatalf("go list -deps %s: %v", pkg, err)
	}
	m := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		path, std, ok := strings.Cut(line, " ")
		if !ok {
			t.Fatalf("go list: unexpected line %q", line)
		}
		m[path] = std == "true"
	}
	return m
}

// TestImportRules holds the package graph to its design: emit reads the
// typed plan and never the HCL configuration, and the kernel model
// (plan/klp) and kernel constants (kabi) stand on the standard library.
func TestImportRules(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("go not on PATH")
	}
	const mod = "github.com/klpc/klpc/"
	emit := deps(t, "./emit")
	if _, ok := emit[mod+"emit"]; !ok {
		t.Fatal("go list returned no packages for ./emit")
	}
	for p := range emit {
		if strings.HasPrefix(p, "github.com/hashicorp/hcl") {
			t.Errorf("emit depends on %s; it must read only the plan", p)
		}
		if p == mod+"lang" {
			t.Errorf("emit depends on %s; it must read only the plan", p)
		}
	}
	rules := map[string][]string{
		"./plan/klp": {mod + "plan/klp", mod + "kabi"},
		"./kabi":     {mod + "kabi"},
		"./diag":     {mod + "diag"},
	}
	for pkg, allowed := range rules {
		seen := 0
		for p, std := range deps(t, pkg) {
			switch {
			case std:
			case slices.Contains(allowed, p):
				seen++
			default:
				t.Errorf("%s depends on %s; it may import only the standard library and %v", pkg, p, allowed[1:])
			}
		}
		if seen == 0 {
			t.Errorf("%s: go list did not list the package itself", pkg)
		}
	}
}
