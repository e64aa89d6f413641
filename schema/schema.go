// Package schema ships the JSON Schemas (draft 2020-12) of the JSON files
// klpc writes: the plan JSON (plan.schema.json), and the manifest.json,
// build.json and matrix.json of klpc emit. The files are the reference;
// this package embeds them so that tests and tools can validate against
// them with github.com/santhosh-tekuri/jsonschema/v6.
package schema

import (
	"bytes"
	"embed"
	"fmt"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

//go:embed *.schema.json
var files embed.FS

// Names are the schemas shipped, by the name of the file they describe.
var Names = []string{"plan", "manifest", "build", "matrix"}

// Compile returns the compiled schema of that name ("plan", "manifest",
// "build" or "matrix").
func Compile(name string) (*jsonschema.Schema, error) {
	file := name + ".schema.json"
	data, err := files.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("no schema %q", name)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	if err := c.AddResource(file, doc); err != nil {
		return nil, err
	}
	return c.Compile(file)
}

// Validate checks a JSON document against the schema of that name.
func Validate(name string, data []byte) error {
	s, err := Compile(name)
	if err != nil {
		return err
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		return fmt.Errorf("not JSON: %w", err)
	}
	return s.Validate(doc)
}
