// Package emit turns a plan into the inputs that build its livepatch
// modules: for every release on every kernel (and, with layout
// "per-object", every module of it) a folder with the module's ELF section
// manifest, a kernel-samples style C file with its klp tables plus Kbuild
// and Makefile for a build against the kernel's headers, and the patches
// and command line for kpatch-build; per-object releases also get their
// modprobe configuration and the upgrade procedure the planner verified.
// At the top of the output, a Makefile, build.json and a CI matrix.
//
// The emitter reads only the plan (package plan): never the configuration
// files. Besides the plan it reads the fixes' source and patch files the
// plan names, to copy them. Generate is pure and deterministic; Write puts
// a generated tree in place atomically.
package emit
