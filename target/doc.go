// Package target reads the kernel builds livepatches are made for: it
// indexes the symbols of a kernel build and resolves livepatch targets
// against them exactly as the kernel's livepatch core
// does when a patch is enabled.
//
// A Build is one kernel build: its vmlinux symbols, its modules, its
// exported symbols (Module.symvers) and its configuration. It is loaded
// from the files a kernel build ships: a saved /proc/kallsyms, System.map,
// a vmlinux ELF, a tree of modules (.ko, .ko.xz, .ko.zst, .ko.gz),
// Module.symvers, .config and a saved available_filter_functions. Each
// reader keeps symbols in the order the kernel iterates them, because a
// livepatch's old_sympos counts duplicates in that order:
//
//   - vmlinux: kallsyms order, which scripts/kallsyms makes address order
//     (see kallsymsOrder for the tie-breaking rules);
//   - a module: its own ELF symbol table order, filtered the way
//     kernel/module/kallsyms.c (layout_symtab, add_kallsyms) keeps it.
//
// Object.Resolve mirrors klp_find_object_symbol and klp_find_callback in
// kernel/livepatch/core.c (Linux 6.1) and adds what the kernel checks only
// later, when it patches: that the symbol is a function and that ftrace
// has a call site for it (klp_patch_func → ftrace_location).
//
// Indexes are cached per build, keyed by the content of the input files
// (see LoadCached). The package only reads: it never writes next to the
// inputs, and it never trusts a cache entry it cannot validate.
package target
