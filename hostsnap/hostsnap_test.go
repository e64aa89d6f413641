package hostsnap

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// writeTree lays out proc/ and sys/ files as a 7.x kernel shows them with
// two livepatches loaded, one of them in transition, and a module patched
// late.
func writeTree(t *testing.T, root string, line string) {
	t.Helper()
	files := map[string]string{
		"proc/sys/kernel/osrelease": "6.1.0-56-amd64\n",
		"proc/modules": "lp_b 16384 1 - Live 0x0000000000000000 (OEK)\n" +
			"klpc_probe 16384 0 - Live 0x0000000000000000 (OE)\n" +
			"lp_a 16384 1 - Live 0x0000000000000000 (OEK)\n",
		"sys/module/lp_a/srcversion":       "0123456789ABCDEF0123456\n",
		"sys/module/lp_a/version":          "klpc lp-a 1a2b3c4d\n",
		"sys/module/lp_a/taint":            "OEK\n",
		"sys/module/lp_b/srcversion":       "FEDCBA9876543210FEDCBA9\n",
		"sys/module/lp_b/version":          "klpc \"lp-b\" \\x 5e6f7a8b\n",
		"sys/module/lp_b/taint":            "OEK\n",
		"sys/module/klpc_probe/srcversion": "AAAABBBBCCCCDDDDEEEEFFF\n",
		"sys/module/klpc_probe/taint":      "OE\n",

		"sys/kernel/livepatch/lp_a/enabled":            "1\n",
		"sys/kernel/livepatch/lp_a/transition":         "0\n",
		"sys/kernel/livepatch/lp_a/force":              "",
		"sys/kernel/livepatch/lp_a/vmlinux/patched":    "1\n",
		"sys/kernel/livepatch/lp_a/klpc_probe/patched": "1\n",
		"sys/kernel/livepatch/lp_b/enabled":            "0\n",
		"sys/kernel/livepatch/lp_b/transition":         "1\n",
		"sys/kernel/livepatch/lp_b/force":              "",
		"sys/kernel/livepatch/lp_b/vmlinux/patched":    "1\n",
		"sys/kernel/livepatch/lp_b/nfsd/patched":       "0\n",
	}
	dirs := []string{
		"sys/kernel/livepatch/lp_a/vmlinux/cmdline_proc_show,1",
		"sys/kernel/livepatch/lp_a/klpc_probe/klpc_probe_alpha,1",
		"sys/kernel/livepatch/lp_a/klpc_probe/klpc_probe_beta,1",
		"sys/kernel/livepatch/lp_b/vmlinux/version_proc_show,2",
		"sys/kernel/livepatch/lp_b/nfsd/nfsd_open,1",
	}
	if line != "6.1" {
		files["sys/kernel/livepatch/lp_a/replace"] = "1\n"
		files["sys/kernel/livepatch/lp_b/replace"] = "0\n"
	}
	if line == "7.x" {
		files["sys/kernel/livepatch/lp_a/stack_order"] = "2\n"
		files["sys/kernel/livepatch/lp_b/stack_order"] = "1\n"
	}
	for _, d := range dirs {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for name, text := range files {
		p := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestScriptMatchesCapture runs scripts/klpc-snapshot.sh and Capture over
// the same tree, on every line's layout, and with busybox sh where the
// machine has it (the e2e guests have nothing else).
func TestScriptMatchesCapture(t *testing.T) {
	shells := [][]string{{"sh"}}
	if bb, err := exec.LookPath("busybox"); err == nil {
		shells = append(shells, []string{bb, "sh"})
	}
	for _, line := range []string{"6.1", "6.12", "7.x"} {
		root := t.TempDir()
		writeTree(t, root, line)
		want, err := Capture(root)
		if err != nil {
			t.Fatal(err)
		}
		if len(want.Livepatches) != 2 || len(want.Modules) != 3 {
			t.Fatalf("%s: capture: %+v", line, want)
		}
		for _, sh := range shells {
			cmd := exec.Command(sh[0], append(sh[1:], filepath.Join("..", "scripts", "klpc-snapshot.sh"))...)
			cmd.Env = append(os.Environ(), "KLPC_SNAPSHOT_ROOT="+root)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("%s %v: %v\n%s", line, sh, err, stderr.String())
			}
			got, err := Parse("script", out)
			if err != nil {
				t.Fatalf("%s %v: %v\n%s", line, sh, err, out)
			}
			if !reflect.DeepEqual(got, want) {
				g, _ := Marshal(got)
				w, _ := Marshal(want)
				t.Errorf("%s %v: script and Capture differ:\n%s\nvs\n%s", line, sh, g, w)
			}
		}
	}
}

func TestCaptureFields(t *testing.T) {
	root := t.TempDir()
	writeTree(t, root, "7.x")
	s, err := Capture(root)
	if err != nil {
		t.Fatal(err)
	}
	data, err := Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	back, err := Parse("x.json", data)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, s) {
		t.Fatalf("round trip differs")
	}
	// stack_order orders the patches: lp_b was loaded first.
	if s.Livepatches[0].Name != "lp_b" || s.Livepatches[0].StackOrder != 1 || !s.Livepatches[0].Transition {
		t.Errorf("first patch: %+v", s.Livepatches[0])
	}
	if m := s.Module("lp_b"); m == nil || m.Version != `klpc "lp-b" \x 5e6f7a8b` || m.Taint != "OEK" {
		t.Errorf("lp_b module: %+v", m)
	}
	if m := s.Module("klpc_probe"); m == nil || m.Version != "" || m.Srcversion != "AAAABBBBCCCCDDDDEEEEFFF" {
		t.Errorf("probe module: %+v", m)
	}
	if o := s.Livepatch("lp_b").Objects; len(o) != 2 || o[0].Name != "nfsd" || o[0].Patched || o[0].Funcs[0] != "nfsd_open,1" {
		t.Errorf("lp_b objects: %+v", o)
	}
}

func TestParseErrors(t *testing.T) {
	good := `{"format":1,"kernel":"6.1.0-56-amd64","livepatches":[{"name":"lp_a","enabled":true,"transition":false,"objects":[]}],"modules":[{"name":"lp_a"}]}`
	if _, err := Parse("ok.json", []byte(good)); err != nil {
		t.Fatal(err)
	}
	cases := []struct{ text, want string }{
		{``, "h.json:1:1: empty"},
		{`{"format":1,`, "ends in the middle"},
		{"{\n \"format\": 1,\n \"kernal\": \"x\"}", `h.json:3:`},
		{`{"format":2,"kernel":"x","livepatches":[],"modules":[]}`, "format: 2 is not"},
		{`{"format":1,"kernel":"a b","livepatches":[],"modules":[]}`, "kernel: \"a b\""},
		{`{"format":1,"kernel":"6.1","livepatches":[],"modules":[]} {}`, "data after"},
		{`{"format":1,"kernel":"6.1","livepatches":[],"modules":[{"name":"a/b"}]}`, "modules[0].name"},
		{`{"format":1,"kernel":"6.1","livepatches":[],"modules":[{"name":"a"},{"name":"a"}]}`, "listed twice"},
		{`{"format":1,"kernel":"6.1","livepatches":[{"name":"lp","objects":[]}],"modules":[]}`, `livepatch "lp" has no module`},
		{`{"format":1,"kernel":"6.1","livepatches":[{"name":"lp","objects":[{"name":"vmlinux","funcs":["f"]}]}],"modules":[{"name":"lp"}]}`, "livepatches[0].objects[0].funcs[0]"},
		{`{"format":1,"kernel":"6.1","livepatches":[{"name":"lp","enabled":"yes"}],"modules":[]}`, "livepatches.enabled"},
		{`{"format":1,"kernel":"6.1","livepatches":[],"modules":[{"name":"m","taint":"oops"}]}`, "taint"},
	}
	for _, c := range cases {
		_, err := Parse("h.json", []byte(c.text))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want %q", c.text, err, c.want)
		}
	}
}

func TestReadFileRefusesNonRegular(t *testing.T) {
	if _, err := ReadFile(t.TempDir()); err == nil {
		t.Fatal("a folder was read as a snapshot")
	}
}
