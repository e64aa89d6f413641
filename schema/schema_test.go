package schema

import (
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/tools/txtar"
)

// TestPlanGoldens validates every golden plan JSON of the repository.
func TestPlanGoldens(t *testing.T) {
	files, _ := filepath.Glob("../plan/planner/testdata/golden/*.json")
	if len(files) < 3 {
		t.Fatalf("golden plans missing: %v", files)
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := Validate("plan", data); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
}

// TestEmitGoldens validates every manifest.json, build.json and
// matrix.json of the emit golden archives.
func TestEmitGoldens(t *testing.T) {
	archives, _ := filepath.Glob("../emit/testdata/golden/*.txtar")
	if len(archives) < 3 {
		t.Fatalf("emit goldens missing: %v", archives)
	}
	seen := map[string]int{}
	for _, a := range archives {
		ar, err := txtar.ParseFile(a)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range ar.Files {
			name := strings.TrimSuffix(path.Base(f.Name), ".json")
			switch name {
			case "manifest", "build", "matrix":
			default:
				continue
			}
			seen[name]++
			if err := Validate(name, f.Data); err != nil {
				t.Errorf("%s %s: %v", a, f.Name, err)
			}
		}
	}
	for _, n := range []string{"manifest", "build", "matrix"} {
		if seen[n] == 0 {
			t.Errorf("no %s.json in the emit goldens", n)
		}
	}
}

// TestSchemasReject: the schemas are strict enough to catch a wrong
// document.
func TestSchemasReject(t *testing.T) {
	for name, doc := range map[string]string{
		"plan":     `{"format_version":"1.1","diagnostics":[{"severity":"fatal","code":"x","summary":"","detail":""}],"kernels":[],"fixes":[],"livepatches":[],"deployments":[]}`,
		"matrix":   `{"include":[{"kernel":"k","kernel_release":"r","release":"l","module":"m","builder":"make","dir":"d","command":"c","artifact":"a"}]}`,
		"build":    `{"format_version":"1.0","artifacts":[],"extra":1}`,
		"manifest": `{"format_version":"1.0"}`,
	} {
		if err := Validate(name, []byte(doc)); err == nil {
			t.Errorf("%s accepts %s", name, doc)
		}
	}
}
