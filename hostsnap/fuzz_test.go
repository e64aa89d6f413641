package hostsnap

import "testing"

// FuzzParse feeds arbitrary text to Parse: it must return a snapshot that
// marshals and parses back to itself, or an error, never panic.
func FuzzParse(f *testing.F) {
	f.Add([]byte(`{"format":1,"kernel":"6.1.0-56-amd64","livepatches":[{"name":"lp_a","enabled":true,"transition":false,"replace":true,"stack_order":1,"objects":[{"name":"vmlinux","patched":true,"funcs":["cmdline_proc_show,1"]}]}],"modules":[{"name":"lp_a","srcversion":"ABC","version":"klpc lp-a 0123abcd","taint":"OEK"}]}`))
	f.Add([]byte(`{"format":1}`))
	f.Add([]byte(`[`))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := Parse("fuzz.json", data)
		if err != nil {
			return
		}
		out, err := Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Parse("again.json", out); err != nil {
			t.Fatalf("marshalled snapshot does not parse: %v\n%s", err, out)
		}
	})
}
