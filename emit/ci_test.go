package emit

import (
	"bytes"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/rhysd/actionlint"
	"github.com/santhosh-tekuri/jsonschema/v6"
	yaml "go.yaml.in/yaml/v4"
)

// ciTrees are the outputs whose pipelines the tests check: every golden
// case, and a release with an empty matrix is not possible (emit refuses
// a plan without modules), so these cover one to many jobs.
func ciTrees(t *testing.T) map[string]*Tree {
	t.Helper()
	out := map[string]*Tree{}
	for name, dir := range cases {
		out[name] = generate(t, planDir(t, dir))
	}
	return out
}

// TestGitHubWorkflowActionlint lints every emitted workflow with
// actionlint (its shellcheck pass too when shellcheck is installed).
func TestGitHubWorkflowActionlint(t *testing.T) {
	opts := &actionlint.LinterOptions{}
	if sc, err := exec.LookPath("shellcheck"); err == nil {
		opts.Shellcheck = sc
	} else if os.Getenv("KLPC_E2E") == "1" {
		t.Fatal("KLPC_E2E=1 but shellcheck is not installed")
	}
	for name, tree := range ciTrees(t) {
		f := tree.File("ci/github-actions.yml")
		if f == nil {
			t.Fatalf("%s: no ci/github-actions.yml", name)
		}
		l, err := actionlint.NewLinter(io.Discard, opts)
		if err != nil {
			t.Fatal(err)
		}
		errs, err := l.Lint("github-actions.yml", f.Data, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range errs {
			t.Errorf("%s: actionlint: %s", name, e.Error())
		}
		checkJobsMatchMatrix(t, name, tree, f.Data, func(doc map[string]any) []any {
			return dig(doc, "jobs", "build", "strategy", "matrix", "include").([]any)
		})
	}
}

// TestGitLabCISchema validates every emitted GitLab CI file against the
// reduced schema in testdata/ci (see its description).
func TestGitLabCISchema(t *testing.T) {
	data, err := os.ReadFile("testdata/ci/gitlab-ci.reduced.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("gitlab-ci.json", doc); err != nil {
		t.Fatal(err)
	}
	schema, err := c.Compile("gitlab-ci.json")
	if err != nil {
		t.Fatal(err)
	}
	for name, tree := range ciTrees(t) {
		f := tree.File("ci/gitlab-ci.yml")
		if f == nil {
			t.Fatalf("%s: no ci/gitlab-ci.yml", name)
		}
		if err := schema.Validate(yamlToJSON(t, f.Data)); err != nil {
			t.Errorf("%s: %v", name, err)
		}
		checkJobsMatchMatrix(t, name, tree, f.Data, func(doc map[string]any) []any {
			return dig(doc, "klpc-build", "parallel", "matrix").([]any)
		})
	}
	// The schema refuses what GitLab refuses.
	bad := []byte("klpc-build:\n  script: []\n  parallel:\n    matrix: []\n")
	if err := schema.Validate(yamlToJSON(t, bad)); err == nil {
		t.Error("the schema accepts an empty script and matrix")
	}
}

// checkJobsMatchMatrix: one job per matrix.json entry, in order, with its
// values.
func checkJobsMatchMatrix(t *testing.T, name string, tree *Tree, pipeline []byte, jobs func(map[string]any) []any) {
	t.Helper()
	var mx matrix
	if err := json.Unmarshal(tree.File("matrix.json").Data, &mx); err != nil {
		t.Fatal(err)
	}
	got := jobs(yamlToJSON(t, pipeline).(map[string]any))
	if len(got) != len(mx.Include) {
		t.Fatalf("%s: %d jobs for %d matrix entries", name, len(got), len(mx.Include))
	}
	for i, e := range mx.Include {
		job := got[i].(map[string]any)
		for _, v := range []string{e.Kernel, e.KernelRelease, e.Module, e.Builder, e.Dir, e.Command, e.Artifact} {
			found := false
			for _, jv := range job {
				found = found || jv == v
			}
			if !found {
				t.Errorf("%s: job %d lacks %q", name, i, v)
			}
		}
	}
}

func yamlToJSON(t *testing.T, data []byte) any {
	t.Helper()
	var v any
	if err := yaml.Unmarshal(data, &v); err != nil {
		t.Fatalf("not YAML: %v\n%s", err, data)
	}
	// Through JSON, so that the validator sees JSON types.
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	out, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func dig(v any, keys ...string) any {
	for _, k := range keys {
		m, _ := v.(map[string]any)
		v = m[k]
	}
	return v
}

// TestYAMLString: any string survives quoting, YAML's special characters
// and GitHub's expression markers included.
func TestYAMLString(t *testing.T) {
	for _, s := range []string{"", "plain", "a: b", "# c", "'q'", `"dq"`, "multi\nline\ttab", "${{ github.token }}", "- item", "yes", "null", "*anchor", "&a", "!tag", "%dir", "@at", "`tick`", "\u2028\u00e9\x7f\u0085\ufeff\x00\U0001F600", "{a: [1]}", "bad\xffutf8"} {
		var got map[string]string
		if err := yaml.Unmarshal([]byte("k: "+yamlString(s)+"\n"), &got); err != nil {
			t.Errorf("%q: %v", s, err)
			continue
		}
		if want := strings.ToValidUTF8(s, "\uFFFD"); got["k"] != want {
			t.Errorf("%q reads back as %q", s, got["k"])
		}
	}
	if strings.Contains(yamlString("<&>"), `\u`) {
		t.Error("HTML characters are escaped")
	}
}
