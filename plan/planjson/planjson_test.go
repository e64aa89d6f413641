package planjson

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/klpc/klpc/diag"
	"github.com/klpc/klpc/kabi"
	"github.com/klpc/klpc/plan"
)

func TestEmptyPlan(t *testing.T) {
	got, err := Marshal(&plan.Plan{})
	if err != nil {
		t.Fatal(err)
	}
	want := `{
  "format_version": "1.3",
  "diagnostics": [],
  "kernels": [],
  "fixes": [],
  "livepatches": [],
  "deployments": []
}
`
	if string(got) != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
	if FormatVersion != "1.3" {
		t.Errorf("FormatVersion %q: update the golden plans and this test together", FormatVersion)
	}
}

// sparsePlan has every kind of element once, with every list inside empty
// (nil in the typed plan).
func sparsePlan() *plan.Plan {
	return &plan.Plan{
		Kernels: []*plan.Kernel{{Name: "k", Release: "6.1.0-56-amd64", Arch: "x86_64"}},
		Fixes:   []*plan.Fix{{Name: "a", Objects: []*plan.FixObject{{Name: kabi.Vmlinux}}}},
		Livepatches: []*plan.Livepatch{{
			Name: "lp-1", Layout: kabi.LayoutPerObject,
			Builds:   []*plan.Build{{Kernel: "k", Modules: []*plan.Module{{Name: "lp_1__vmlinux", Objects: []*plan.Object{{Name: kabi.Vmlinux}}}}}},
			Upgrades: []*plan.Upgrade{{From: "lp-0", Kernel: "k", Steps: []*plan.UpgradeStep{{Index: 1, Action: kabi.ActionLoad}}}},
		}},
		Deployments: []*plan.Deployment{{Name: "d", Kernel: "k", Steps: []*plan.Step{{Index: 1, Action: kabi.ActionModuleLoad, Module: "nfsd", Expect: kabi.ExpectOK, OK: true}}}},
		Diagnostics: diag.Diagnostics{diag.Errorf(diag.NoFixes, nil, "S", "D")},
	}
}

// nulls lists the paths of JSON nulls in v.
func nulls(path string, v any) []string {
	switch v := v.(type) {
	case nil:
		return []string{path}
	case map[string]any:
		var out []string
		for k, x := range v {
			out = append(out, nulls(path+"."+k, x)...)
		}
		return out
	case []any:
		var out []string
		for i, x := range v {
			out = append(out, nulls(fmt.Sprintf("%s[%d]", path, i), x)...)
		}
		return out
	}
	return nil
}

func TestArraysNeverNull(t *testing.T) {
	b, err := Marshal(sparsePlan())
	if err != nil {
		t.Fatal(err)
	}
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	if n := nulls("$", v); len(n) > 0 {
		t.Errorf("nulls at %s in:\n%s", strings.Join(n, ", "), b)
	}
	for _, frag := range []string{`"functions": {}`, `"enabled": []`, `"loaded": []`, `"diagnostics": []`, `"changes": []`, `"guarded": []`, `"symbols": []`, `"states": []`, `"fixes": []`, `"drops": []`, `"modules": []`} {
		if !bytes.Contains(b, []byte(frag)) {
			t.Errorf("plan JSON lacks %s", frag)
		}
	}
	// A diagnostic without a subject has no range and no related places.
	if bytes.Contains(b, []byte(`"range"`)) || bytes.Contains(b, []byte(`"related"`)) {
		t.Errorf("range or related on a diagnostic without them:\n%s", b)
	}
}

func TestImplAndDiagnostics(t *testing.T) {
	p := sparsePlan()
	s := p.Deployments[0].Steps[0]
	s.Functions = plan.FunctionsOf(map[string]plan.Impl{
		"vmlinux:f":   {Kind: plan.Replaced, Livepatch: "lp-1", New: "new_f"},
		"nfsd:g":      {Kind: plan.Absent},
		"nfsd:p":      {},
		"vmlinux:h,2": {},
	}, nil)
	s.Before = plan.FunctionsOf(map[string]plan.Impl{"nfsd:g": {Kind: plan.Absent}, "nfsd:p": {Kind: plan.Absent}}, nil)
	s.Diagnostics = []int{0}
	r := diag.Range{Filename: "m.klp.hcl", Start: diag.Pos{Line: 2, Column: 3, Byte: 12}, End: diag.Pos{Line: 2, Column: 7, Byte: 16}}
	p.Diagnostics = diag.Diagnostics{diag.Warnf(diag.StackedNonReplace, r.Ptr(), "S", "D").WithRelated("there", r)}
	j := From(p)
	js := j.Deployments[0].Steps[0]
	for k, want := range map[string]string{"vmlinux:f": "lp-1:new_f", "nfsd:g": "absent", "vmlinux:h,2": "original"} {
		if js.Functions[k] != want {
			t.Errorf("functions[%s] = %q, want %q", k, js.Functions[k], want)
		}
	}
	if c := js.Changes; len(c) != 2 || c[1].Kind != "+" || c[1].From != "original" || c[1].To != "lp-1:new_f" || c[0].Kind != "*" || c[0].Function != "nfsd:p" || c[0].From != "absent" || c[0].To != "original" {
		t.Errorf("changes %+v", c)
	}
	d := j.Diagnostics[0]
	if d.Severity != "warning" || d.Code != "stacked-non-replace" || d.Range == nil || *d.Range != (Range{"m.klp.hcl", Pos{2, 3, 12}, Pos{2, 7, 16}}) ||
		len(d.Related) != 1 || d.Related[0].Message != "there" || d.Related[0].Range != *d.Range {
		t.Errorf("diagnostic %+v", *d)
	}
	// The JSON copies the step's indexes, it does not alias them.
	js.Diagnostics[0] = 9
	if s.Diagnostics[0] != 0 {
		t.Error("step diagnostics aliased")
	}
}

func TestDeterministic(t *testing.T) {
	p := sparsePlan()
	s := p.Deployments[0].Steps[0]
	functions := map[string]plan.Impl{}
	for i := range 50 {
		functions[fmt.Sprintf("vmlinux:f%02d", i)] = plan.Impl{Kind: plan.Replaced, Livepatch: "lp", New: fmt.Sprint("n", i)}
	}
	s.Functions = plan.FunctionsOf(functions, nil)
	first, err := Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	for range 20 {
		again, _ := Marshal(p)
		if !bytes.Equal(first, again) {
			t.Fatal("Marshal is not deterministic")
		}
	}
	if i, j := bytes.Index(first, []byte(`"vmlinux:f00"`)), bytes.Index(first, []byte(`"vmlinux:f49"`)); i < 0 || j < i {
		t.Error("function keys are not sorted")
	}
}

// TestWriteStreamsMarshalIndent: Write, one release and deployment at a
// time, gives the bytes of json.MarshalIndent of the whole tree, with 0,
// 1 and 3 releases and deployments, steps with functions, and text that
// JSON escapes.
func TestWriteStreamsMarshalIndent(t *testing.T) {
	for n := range []int{0, 1, 3} {
		p := sparsePlan()
		d := p.Deployments[0]
		d.Steps[0].Functions = plan.FunctionsOf(map[string]plan.Impl{"vmlinux:f<&>": {Kind: plan.Replaced, Livepatch: "lp-1", New: "n\"ew"}, "vmlinux:g": {}}, nil)
		lp := p.Livepatches[0]
		p.Deployments, p.Livepatches = nil, nil
		for range []int{0, 1, 3}[n] {
			p.Deployments = append(p.Deployments, d)
			p.Livepatches = append(p.Livepatches, lp)
		}
		want, err := json.MarshalIndent(From(p), "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, '\n')
		var got bytes.Buffer
		if err := Write(&got, p); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got.Bytes(), want) {
			t.Errorf("%d deployments: Write gives\n%s\nwant\n%s", len(p.Deployments), got.Bytes(), want)
		}
	}
}
