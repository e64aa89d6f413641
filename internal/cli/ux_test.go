package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestUsageNamesTheCommand: a usage error points at the help of the
// command that was used wrongly.
func TestUsageNamesTheCommand(t *testing.T) {
	for args, want := range map[string]string{
		"validate --nosuch": "Run 'klpc validate --help' for usage.",
		"plan -o yaml":      "Run 'klpc plan --help' for usage.",
		"nosuchcommand":     "Run 'klpc --help' for usage.",
	} {
		code, _, errs := runCLI(strings.Fields(args)...)
		if code != 2 || !strings.Contains(errs, want) {
			t.Errorf("%s: exit %d, stderr lacks %q:\n%s", args, code, want, errs)
		}
	}
}

// TestLongHelp: every command says more than its one line.
func TestLongHelp(t *testing.T) {
	root := newRootCommand(nil, nil)
	for _, c := range root.Commands() {
		if c.Name() == "help" || c.Name() == "completion" {
			continue
		}
		if len(c.Long) < 80 {
			t.Errorf("%s has no long help", c.Name())
		}
	}
	code, out, _ := runCLI("validate", "--help")
	if code != 0 || !strings.Contains(out, "--no-cache") || !strings.Contains(out, "symbol block") {
		t.Errorf("validate --help: exit %d:\n%s", code, out)
	}
}

// TestCompletion: the completion scripts exist, and the values completed
// come from the command and the configuration.
func TestCompletion(t *testing.T) {
	for _, shell := range []string{"bash", "zsh", "fish"} {
		if code, out, errs := runCLI("completion", shell); code != 0 || len(out) < 100 {
			t.Errorf("completion %s: exit %d: %s", shell, code, errs)
		}
	}
	for args, want := range map[string][]string{
		"__complete plan -o ": {"text", "json", "html"},
		"__complete plan ../../examples/cumulative --deploy ":        {"fleet"},
		"__complete plan ../../e2e/testdata/differential --deploy s": {"single", "state-takeover"},
		"__complete plan ": {":16"}, // ShellCompDirectiveFilterDirs
	} {
		fields := strings.Fields(args)
		if strings.HasSuffix(args, " ") {
			fields = append(fields, "") // complete an empty word
		}
		code, out, errs := runCLI(fields...)
		if code != 0 {
			t.Errorf("%s: exit %d: %s", args, code, errs)
			continue
		}
		for _, w := range want {
			if !strings.Contains(out, w) {
				t.Errorf("%s: completions lack %q:\n%s", args, w, out)
			}
		}
	}
}

// TestDeployNotFoundListsDeployments: --deploy with an unknown name lists
// the deploy blocks there are.
func TestDeployNotFoundListsDeployments(t *testing.T) {
	code, _, errs := runCLI("plan", "--deploy", "nope", "../../examples/cumulative")
	if code != 1 || !strings.Contains(errs, `No deploy block is named "nope". The deployments are: fleet.`) {
		t.Errorf("exit %d:\n%s", code, errs)
	}
}

// TestPlanHTML: -o html prints the page, errors or not.
func TestPlanHTML(t *testing.T) {
	code, out, errs := runCLI("plan", "-o", "html", "../../examples/stacking")
	if code != 1 || !strings.HasPrefix(out, "<!DOCTYPE html>") || !strings.Contains(out, `data-deployment="seed"`) {
		t.Errorf("exit %d, stderr %s\n%.300s", code, errs, out)
	}
	if !strings.Contains(errs, "replace-drops-fix") {
		t.Errorf("diagnostics not on stderr: %s", errs)
	}
}

// TestEmitWritesPage: emit writes plan.html beside build.json.
func TestEmitWritesPage(t *testing.T) {
	out := filepath.Join(t.TempDir(), "out")
	if code, _, errs := runCLI("emit", "../../examples/quickstart", "-o", out); code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	page, err := os.ReadFile(filepath.Join(out, "plan.html"))
	if err != nil || !strings.Contains(string(page), `data-deployment="`) {
		t.Errorf("plan.html: %v\n%.300s", err, page)
	}
}
