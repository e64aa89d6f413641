package lang

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/klpc/klpc/diag"
)

// writeConfig writes main.klp.hcl and the given files into a new folder
// and loads it.
func writeConfig(t *testing.T, src string, files map[string]string) diag.Diagnostics {
	t.Helper()
	dir := t.TempDir()
	for name, data := range files {
		path := filepath.Join(dir, name)
		os.MkdirAll(filepath.Dir(path), 0o755)
		if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "main.klp.hcl"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	_, diags := LoadDir(dir)
	return diags
}

const safetyBase = `
kernel "k" {
  release = %RELEASE%
  %KERNEL%
}
fix "f" {
  source = %SOURCE%
  object "vmlinux" {
    func "cmdline_proc_show" { new = %NEW% }
  }
}
`

func safetyConfig(release, kernel, source, newFunc string) string {
	return strings.NewReplacer("%RELEASE%", release, "%KERNEL%", kernel, "%SOURCE%", source, "%NEW%", newFunc).Replace(safetyBase)
}

// TestHostileConfigs: text that would become commands in generated
// Makefiles and scripts, files that leave the configuration folder or
// cannot be read, and what emit or the build would refuse later are all
// reported by lang, at the attribute.
func TestHostileConfigs(t *testing.T) {
	outside := t.TempDir()
	os.WriteFile(filepath.Join(outside, "secret.c"), []byte("secret"), 0o600)
	headers := t.TempDir()
	os.MkdirAll(filepath.Join(headers, "include", "generated"), 0o755)
	os.WriteFile(filepath.Join(headers, "include", "generated", "utsrelease.h"), []byte(`#define UTS_RELEASE "6.12.1-amd64"`+"\n"), 0o644)
	good := map[string]string{"src/f.c": "int x;"}
	for _, tc := range []struct {
		name                           string
		release, kernel, source, newFn string
		files                          map[string]string
		prepare                        func(dir string)
		want                           diag.Code
	}{
		{name: "release with a newline and make code", release: `"6.1.0-56\n$(shell touch /tmp/pwned)"`, want: diag.InvalidRelease},
		{name: "release with shell code", release: `"6.1;reboot"`, want: diag.InvalidRelease},
		{name: "release too long", release: `"` + strings.Repeat("6", 65) + `"`, want: diag.InvalidRelease},
		{name: "headers with make code", kernel: `headers = "/usr/src/$(shell id)"`, want: diag.InvalidPath},
		{name: "headers with a space", kernel: `headers = "/usr/src/a b"`, want: diag.InvalidPath},
		{name: "path with a newline", kernel: `kallsyms = "a\nb"`, want: diag.InvalidPath},
		{name: "missing headers folder", kernel: `headers = "/nonexistent/headers"`, want: diag.InputUnreadable},
		{name: "headers of another release", kernel: `headers = "` + headers + `"`, want: diag.HeadersMismatch},
		{name: "reserved replacement name", newFn: `"klpc__cmdline"`, want: diag.InvalidCName},
		{name: "missing source", source: `"src/missing.c"`, want: diag.InputUnreadable},
		{name: "source not C", source: `"src/f.txt"`, files: map[string]string{"src/f.txt": "x"}, want: diag.SourceNotC},
		{name: "source outside the configuration", source: `"` + filepath.Join(outside, "secret.c") + `"`, want: diag.FileOutsideConfig},
		{name: "source symlinked outside", source: `"src/link.c"`, prepare: func(dir string) {
			os.Symlink(filepath.Join(outside, "secret.c"), filepath.Join(dir, "src", "link.c"))
		}, want: diag.FileOutsideConfig},
		{name: "source is a FIFO", source: `"src/fifo.c"`, prepare: func(dir string) {
			syscall.Mkfifo(filepath.Join(dir, "src", "fifo.c"), 0o644)
		}, want: diag.InputUnreadable},
		{name: "source is a folder", source: `"src/dir.c"`, prepare: func(dir string) {
			os.MkdirAll(filepath.Join(dir, "src", "dir.c"), 0o755)
		}, want: diag.InputUnreadable},
		{name: "source is /dev/zero", source: `"src/zero.c"`, prepare: func(dir string) {
			os.Symlink("/dev/zero", filepath.Join(dir, "src", "zero.c"))
		}, want: diag.InputUnreadable},
	} {
		t.Run(tc.name, func(t *testing.T) {
			release, source, newFn := `"6.1.0-56-amd64"`, `"src/f.c"`, `"klpc_cmdline"`
			if tc.release != "" {
				release = tc.release
			}
			if tc.source != "" {
				source = tc.source
			}
			if tc.newFn != "" {
				newFn = tc.newFn
			}
			files := map[string]string{}
			for k, v := range good {
				files[k] = v
			}
			for k, v := range tc.files {
				files[k] = v
			}
			dir := t.TempDir()
			for name, data := range files {
				os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755)
				os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644)
			}
			if tc.prepare != nil {
				tc.prepare(dir)
			}
			os.WriteFile(filepath.Join(dir, "main.klp.hcl"), []byte(safetyConfig(release, tc.kernel, source, newFn)), 0o644)
			_, diags := LoadDir(dir)
			if len(diags) != 1 || diags[0].Code != tc.want || diags[0].Subject == nil {
				t.Fatalf("want one %s with a place, got:\n%s", tc.want, diags.String())
			}
			if strings.Contains(diags.String(), "secret") && !strings.Contains(diags[0].Detail, "secret.c") {
				t.Errorf("the content of a file outside leaked: %s", diags.String())
			}
		})
	}
	// The good configuration passes.
	if d := writeConfig(t, safetyConfig(`"6.1.0-56-amd64"`, "", `"src/f.c"`, `"klpc_cmdline"`), good); len(d) > 0 {
		t.Errorf("good configuration: %s", d.String())
	}
}

// TestDeepNesting: expressions nested tens of thousands deep, which would
// overflow the parser's stack, end in one diagnostic.
func TestDeepNesting(t *testing.T) {
	for name, src := range map[string]string{
		"brackets":  `kernel "k" { release = ` + strings.Repeat("[", 70000) + `}`,
		"parens":    `kernel "k" { release = ` + strings.Repeat("(", 70000) + `}`,
		"templates": `kernel "k" { release = "` + strings.Repeat("${", 70000) + `" }`,
		"braces":    strings.Repeat("{", 70000),
	} {
		t.Run(name, func(t *testing.T) {
			_, diags := NewParser().LoadSources(".", map[string][]byte{"deep.klp.hcl": []byte(src)})
			if len(diags) != 1 || diags[0].Code != diag.NestingTooDeep {
				t.Fatalf("got %s", diags.String())
			}
		})
	}
	// Brackets in strings and comments do not count.
	src := "# " + strings.Repeat("[", 1000) + "\n" + `kernel "k" { release = "6.1.0-56-amd64" ` + "/* " + strings.Repeat("{", 1000) + " */ }\n" +
		`fix "f" {` + "\n" + `description = "` + strings.Repeat("(", 1000) + `"` + "\n" + `state "s" {` + "\n" + `id = 1` + "\n" + `version = 1` + "\n" + `}` + "\n" + `}`
	if _, diags := NewParser().LoadSources(".", map[string][]byte{"ok.klp.hcl": []byte(src)}); len(diags) > 0 {
		t.Errorf("got %s", diags.String())
	}
}

// TestConfigFileFIFO: a FIFO named like a configuration file is refused at
// once instead of blocking the reader.
func TestConfigFileFIFO(t *testing.T) {
	dir := t.TempDir()
	if err := syscall.Mkfifo(filepath.Join(dir, "x.klp.hcl"), 0o644); err != nil {
		t.Skip(err)
	}
	done := make(chan diag.Diagnostics, 1)
	go func() { _, d := LoadDir(dir); done <- d }()
	select {
	case d := <-done:
		if len(d) != 1 || d[0].Code != diag.ConfigUnreadable {
			t.Errorf("got %s", d.String())
		}
	case <-timeAfter():
		t.Fatal("reading a FIFO blocked")
	}
}

func timeAfter() <-chan time.Time { return time.After(10 * time.Second) }

// TestNumberAndNameMessages: the detail says null for null, prints huge
// numbers briefly, and names the whole bad function name.
func TestNumberAndNameMessages(t *testing.T) {
	for src, want := range map[string]string{
		`sympos = null`:  "not null",
		`sympos = 1e400`: "1e+400 is too large",
		`sympos = -1e80`: "-1e+80 is not",
	} {
		cfg := safetyConfig(`"6.1.0-56-amd64"`, "", `"src/f.c"`, `"klpc_cmdline"`)
		cfg = strings.Replace(cfg, `{ new = "klpc_cmdline" }`, "{\n"+`new = "klpc_cmdline"`+"\n"+src+"\n}", 1)
		d := writeConfig(t, cfg, map[string]string{"src/f.c": "int x;"})
		if len(d) != 1 || !strings.Contains(d[0].Detail, want) || len(d[0].Detail) > 300 {
			t.Errorf("%s: want %q in one short detail, got %s", src, want, d.String())
		}
	}
	d := writeConfig(t, strings.Replace(safetyConfig(`"6.1.0-56-amd64"`, "", `"src/f.c"`, `"klpc_cmdline"`), `func "cmdline_proc_show"`, `func "../x"`, 1), map[string]string{"src/f.c": "int x;"})
	if len(d) == 0 || !strings.Contains(d[0].Detail, `"../x" is not a C identifier`) {
		t.Errorf("func \"../x\": %s", d.String())
	}
}
