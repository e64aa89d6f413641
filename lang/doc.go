// Package lang reads klpc's HCL files (*.klp.hcl) into typed configuration that
// keeps every source range, so later phases can point diagnostics at the exact
// attribute that is wrong.
//
// lang checks what can be known from the text alone: the shape of each block,
// the types of literal attributes, names the kernel or kbuild would reject,
// duplicate names and references to blocks that do not exist. It knows
// nothing of kernel semantics: what a livepatch does on a running kernel is
// the planner's business (package plan).
package lang
