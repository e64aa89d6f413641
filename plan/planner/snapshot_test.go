package planner

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/klpc/klpc/diag"
	"github.com/klpc/klpc/lang"
)

// TestFromSnapshot plans examples/hosts, whose web-17 deployment starts
// from a snapshot the real kernel wrote, and checks each way a snapshot can
// fail to match on altered copies of it.
func TestFromSnapshot(t *testing.T) {
	p := planDir(t, "../../examples/hosts")
	if p.HasErrors() {
		t.Fatalf("examples/hosts: %s", p.Diagnostics.String())
	}
	d := p.Deployments[0]
	if d.From == nil || len(d.From.Livepatches) != 2 {
		t.Fatalf("from: %+v", d.From)
	}
	// ns3 stacks on ns1 and ns2: cmdline runs ns3's replacement.
	if got := d.Steps[0].Functions.Impl("vmlinux:cmdline_proc_show"); got.Livepatch != "ns3" {
		t.Errorf("after loading ns3 cmdline_proc_show runs %+v", got)
	}

	text, err := os.ReadFile("../../examples/hosts/hosts/web-17.json")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name       string
		old, new   string
		code       diag.Code
		wantDetail string
	}{
		{"kernel", `"kernel": "6.1.0-56-amd64"`, `"kernel": "6.1.0-57-amd64"`, diag.SnapshotKernel, "kernel: the snapshot was taken on 6.1.0-57-amd64"},
		{"plan", `"version": "klpc ns2 `, `"version": "klpc ns2 0`, diag.SnapshotNoRelease, "built from another plan of release ns2"},
		{"release", `"version": "klpc ns2 `, `"version": "klpc ns9 `, diag.SnapshotNoRelease, `names release "ns9"`},
		{"enabled", `"enabled": true`, `"enabled": false`, diag.SnapshotUnreachable, "livepatches[0] (ns1).enabled: patch ns1 is disabled and not in transition"},
		{"syntax", `"livepatches": [`, `"livepatches": [,`, diag.SnapshotUnreadable, "web-17.json:"},
		{"unknown field", `"format": 1,`, `"format": 1, "extra": 1,`, diag.SnapshotUnreadable, "unknown field"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if !strings.Contains(string(text), c.old) {
				t.Fatalf("the snapshot has no %q", c.old)
			}
			dir := t.TempDir()
			if err := os.CopyFS(dir, os.DirFS("../../examples/hosts")); err != nil {
				t.Fatal(err)
			}
			main := filepath.Join(dir, "main.klp.hcl")
			hcl, _ := os.ReadFile(main)
			hcl = []byte(strings.ReplaceAll(string(hcl), "../../kernels", filepath.Join(mustAbs(t, "../../kernels"))))
			if err := os.WriteFile(main, hcl, 0o644); err != nil {
				t.Fatal(err)
			}
			altered := strings.Replace(string(text), c.old, c.new, 1)
			if err := os.WriteFile(filepath.Join(dir, "hosts", "web-17.json"), []byte(altered), 0o644); err != nil {
				t.Fatal(err)
			}
			cfg, diags := lang.LoadDir(dir)
			p := Plan(cfg, diags, Options{})
			var found *diag.Diagnostic
			for _, dg := range p.Diagnostics {
				if dg.Code == c.code {
					found = dg
				}
			}
			if found == nil || !strings.Contains(found.Detail, c.wantDetail) || found.Subject == nil || found.Subject.Start.Line == 0 {
				t.Fatalf("want %s with %q at from; got %s", c.code, c.wantDetail, p.Diagnostics.String())
			}
		})
	}
}

func mustAbs(t *testing.T, p string) string {
	a, err := filepath.Abs(p)
	if err != nil {
		t.Fatal(err)
	}
	return a
}
