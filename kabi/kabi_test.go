package kabi

import (
	"strings"
	"testing"
)

func TestModuleNames(t *testing.T) {
	if got := ModuleName("lp-2024-01"); got != "lp_2024_01" {
		t.Errorf("ModuleName = %q", got)
	}
	if got := PerObjectModuleName("lp-1", "nfsd"); got != "lp_1__nfsd" {
		t.Errorf("PerObjectModuleName = %q", got)
	}
	// MODULE_NAME_LEN is 56 with the NUL on 6.1, 6.12 and 7.x (64-bit).
	if ModuleNameLen != 56 || ModuleNameMax != 55 || KsymNameLen != 512 {
		t.Errorf("constants %d %d %d", ModuleNameLen, ModuleNameMax, KsymNameLen)
	}
	for _, c := range []struct {
		name string
		want string // a fragment of the message; "" for accepted
	}{
		{"lp_1", ""},
		{"lp-1", ""},
		{"LP9", ""},
		{strings.Repeat("a", 55), ""},
		{strings.Repeat("a", 56), "is 56 characters long; the kernel keeps at most 55 (MODULE_NAME_LEN-1)"},
		{strings.Repeat("-", 56), `"` + strings.Repeat("_", 56) + `" is 56 characters long`},
		{"", "cannot be empty"},
		{"lp.1", `character '.' at position 3`},
		{"lp 1", `character ' ' at position 3`},
		{"lp,1", `character ',' at position 3`},
		{"lpé", `character 'é' at position 3`},
	} {
		got := CheckModuleName(c.name)
		if (c.want == "") != (got == "") || !strings.Contains(got, c.want) {
			t.Errorf("CheckModuleName(%q) = %q, want %q", c.name, got, c.want)
		}
	}
}

func TestCheckObjectName(t *testing.T) {
	for _, c := range []struct{ name, want string }{
		{"vmlinux", ""},
		{"nfsd", ""},
		{"snd_hda_intel", ""},
		{"snd-hda-intel", `the kernel would never find "snd-hda-intel"; write "snd_hda_intel"`},
		{strings.Repeat("m", 56), "MODULE_NAME_LEN-1"},
		{"", "cannot be empty"},
		{"a/b", `character '/'`},
	} {
		got := CheckObjectName(c.name)
		if (c.want == "") != (got == "") || !strings.Contains(got, c.want) {
			t.Errorf("CheckObjectName(%q) = %q, want %q", c.name, got, c.want)
		}
	}
}

func TestCheckFuncName(t *testing.T) {
	for _, c := range []struct{ name, want string }{
		{"cmdline_proc_show", ""},
		{"_start", ""},
		{"tcp_v4_rcv.cold", ""},
		{"do_thing.isra.0", ""},
		{"f.constprop.0.isra.1", ""},
		{strings.Repeat("f", 511), ""},
		{strings.Repeat("f", 512), "512 characters long; the kernel refuses names of 512 or more (KSYM_NAME_LEN)"},
		{"", `"" is not a C identifier`},
		{"1abc", `"1abc" is not a C identifier`},
		{"a-b", `"a-b" is not a C identifier`},
		{"f,1", `"f,1" is not a C identifier`},
		{"f..isra", `"f..isra" is not a C identifier or a compiler clone suffix`},
		{"f.is-ra", `compiler clone suffix`},
	} {
		got := CheckFuncName(c.name)
		if (c.want == "") != (got == "") || !strings.Contains(got, c.want) {
			t.Errorf("CheckFuncName(%q) = %q, want %q", c.name, got, c.want)
		}
	}
}

func TestCIdent(t *testing.T) {
	for name, ok := range map[string]bool{"a": true, "_": true, "A_9": true, "": false, "9a": false, "a.b": false, "a b": false, "é": false} {
		if IsCIdent(name) != ok || (CheckCIdent(name) == "") != ok {
			t.Errorf("IsCIdent(%q) = %v, CheckCIdent %q; want %v", name, IsCIdent(name), CheckCIdent(name), ok)
		}
	}
}

func TestActions(t *testing.T) {
	on := map[Action]bool{ActionLoad: true, ActionDisable: true, ActionUnload: true, ActionEnable: true, ActionForce: true}
	module := map[Action]bool{ActionModuleLoad: true, ActionModuleUnload: true}
	task := map[Action]bool{ActionBlock: true, ActionRelease: true}
	if len(Actions) != 9 {
		t.Errorf("%d actions, want 9", len(Actions))
	}
	for _, a := range Actions {
		if a.OnLivepatch() != on[a] || a.OnModule() != module[a] || a.OnTask() != task[a] {
			t.Errorf("%s: livepatch %v, module %v, task %v", a, a.OnLivepatch(), a.OnModule(), a.OnTask())
		}
		if n := btoi(on[a]) + btoi(module[a]) + btoi(task[a]); n != 1 {
			t.Errorf("%s names %d kinds of thing", a, n)
		}
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}
