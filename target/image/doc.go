// Package image reads the facts a livepatch needs about vmlinux from the
// kernel image alone: the bzImage (vmlinuz) a Debian linux-image package
// ships, without the -dbg package, System.map or a booted kernel.
//
// It finds the compressed payload through the x86 boot setup header,
// decompresses it to the stripped vmlinux ELF, locates the kallsyms tables
// that scripts/kallsyms compiled into .rodata by their structure (their own
// symbols are stripped), decodes every symbol's name, type letter and
// address exactly as kernel/kallsyms.c does, and reads the ftrace call sites
// from the image's own __mcount_loc table. Linux 6.1, 6.12 and 7.x table
// layouts are supported (see Layout).
//
// The package only reads, bounds the memory it uses (MaxVmlinux) and
// reports a damaged image as an error, never a panic. It has no knowledge of
// livepatch rules: target converts its Kernel into a target.Object.
package image
