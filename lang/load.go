package lang

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/klpc/klpc/diag"
	"github.com/klpc/klpc/internal/safeio"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"
)

// FileSuffix is the suffix of the files klpc reads from a directory.
const FileSuffix = ".klp.hcl"

// Parser reads klpc files and keeps their sources for diagnostic snippets.
type Parser struct {
	p *hclparse.Parser
}

// NewParser returns an empty parser.
func NewParser() *Parser {
	return &Parser{p: hclparse.NewParser()}
}

// Files returns every file parsed so far, by name.
func (p *Parser) Files() map[string]*hcl.File {
	return p.p.Files()
}

// LoadDir reads every *.klp.hcl file of dir, in name order.
func LoadDir(dir string) (*Config, diag.Diagnostics) {
	return NewParser().LoadDir(dir)
}

// LoadDir reads every *.klp.hcl file of dir, in name order.
func (p *Parser) LoadDir(dir string) (*Config, diag.Diagnostics) {
	cfg, diags := p.loadDir(dir)
	return cfg, convert(diags)
}

// LoadSources decodes the given files (name to content) as one
// configuration. Relative paths in the files are resolved against dir.
func (p *Parser) LoadSources(dir string, srcs map[string][]byte) (*Config, diag.Diagnostics) {
	cfg, diags := p.loadSources(dir, srcs)
	return cfg, convert(diags)
}

func (p *Parser) loadDir(dir string) (*Config, hcl.Diagnostics) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return &Config{Dir: dir, Files: p.Files()}, hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Cannot read configuration directory",
			Detail:   fmt.Sprintf("klpc reads the *%s files of a directory, but %s", FileSuffix, errText(err)),
		}}
	}
	var names []string
	for _, e := range entries {
		if !e.IsDir() && strings.HasSuffix(e.Name(), FileSuffix) {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	if len(names) == 0 {
		return &Config{Dir: dir, Files: p.Files()}, hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "No configuration files",
			Detail:   fmt.Sprintf("The directory %s holds no *%s file.", dir, FileSuffix),
		}}
	}
	srcs := make(map[string][]byte, len(names))
	var diags hcl.Diagnostics
	for _, n := range names {
		path := filepath.Join(dir, n)
		src, err := safeio.ReadFile(path, MaxConfigFile)
		if err != nil {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Cannot read configuration file",
				Detail:   fmt.Sprintf("Reading %s failed: %s.", path, errText(err)),
			})
			continue
		}
		srcs[path] = src
	}
	cfg, moreDiags := p.loadSources(dir, srcs)
	return cfg, append(diags, moreDiags...)
}

func (p *Parser) loadSources(dir string, srcs map[string][]byte) (*Config, hcl.Diagnostics) {
	cfg := &Config{Dir: dir}
	var diags hcl.Diagnostics
	names := make([]string, 0, len(srcs))
	for n := range srcs {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if d := notText(n, srcs[n]); d != nil {
			diags = append(diags, d)
			continue
		}
		if d := checkNesting(srcs[n], n); d != nil {
			diags = append(diags, d)
			continue
		}
		f, d := p.p.ParseHCL(srcs[n], n)
		diags = append(diags, capSyntaxErrors(n, d)...)
		if f == nil || f.Body == nil {
			continue
		}
		diags = append(diags, decodeFile(cfg, f.Body, filepath.Dir(n))...)
	}
	cfg.Files = p.Files()
	diags = append(diags, checkConfig(cfg)...)
	if !diags.HasErrors() {
		diags = append(diags, checkFiles(cfg)...)
	}
	return cfg, diags
}

func errText(err error) string {
	if pe, ok := err.(*os.PathError); ok {
		return fmt.Sprintf("%s: %s", pe.Path, pe.Err)
	}
	return err.Error()
}
