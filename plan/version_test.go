package plan

import "testing"

func TestModuleVersion(t *testing.T) {
	m := &Module{Name: "lp_2024_06", Replace: true, Objects: []*Object{{Name: "vmlinux", Funcs: []*Func{{Name: "cmdline_proc_show", New: "klpc_cmdline_proc_show"}}}}}
	v := ModuleVersion("lp-2024-06", "6.1.0-56-amd64", m)
	if ReleaseOfVersion(v) != "lp-2024-06" || len(v) != len("klpc lp-2024-06 ")+12 {
		t.Fatalf("version %q", v)
	}
	if ModuleVersion("lp-2024-06", "6.1.0-56-amd64", m) != v {
		t.Fatal("not deterministic")
	}
	m.Objects[0].Funcs[0].Sympos = 2
	if ModuleVersion("lp-2024-06", "6.1.0-56-amd64", m) == v {
		t.Fatal("a moved sympos keeps the version")
	}
	for _, s := range []string{"", "klpc", "klpc a", "other a b", "klpc a b c"} {
		if ReleaseOfVersion(s) != "" {
			t.Errorf("%q read as a klpc version", s)
		}
	}
}
