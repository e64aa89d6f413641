// Package e2e is klpc's real-kernel judge: it boots a real distribution kernel
// under qemu, performs livepatch deployment steps inside the guest and reports
// what the kernel's livepatch core actually did.
//
// A [Scenario] names the modules it needs (built .ko files), the ordinary modules
// to load first, a sequence of [Step]s (load a livepatch module, disable its patch
// through sysfs, unload it, load or unload an ordinary module) and the functions
// to watch. [Run] packs the modules and a generated busybox /init into an
// initramfs, boots the kernel once for as many scenarios as it can, and returns,
// for every step, an [Observation]: whether the command succeeded and how it
// failed, the kernel's new livepatch log lines, the patches listed under
// /sys/kernel/livepatch, the loaded modules, and which implementation each
// watched function runs.
//
// # Watched functions
//
// A function is watched through a /proc file that calls it:
//
//   - vmlinux:cmdline_proc_show  reads /proc/cmdline  (original: the boot command line)
//   - vmlinux:version_proc_show  reads /proc/version  (original: starts with "Linux version")
//   - vmlinux:meminfo_proc_show  reads /proc/meminfo  (original: starts with "MemTotal:")
//   - klpc_probe:<function>      reads /proc/klpc_probe, the probe module in e2e/probe
//
// The observed value is "original", "absent" (the module that holds the function
// is not loaded) or the text the replacement printed instead. By convention a
// replacement prints its identity, "<livepatch module>:<replacement function>"
// (KBUILD_MODNAME ":" __func__), so the observation names the livepatch module and
// the function that answered. A vmlinux replacement prints the identity as its
// whole output; a klpc_probe replacement returns it as its string (see
// e2e/probe/klpc_probe.c).
//
// # Transport
//
// The guest writes its results to a second serial port (ttyS1) that carries
// nothing else, one record per line, framed as
//
//	@@KLPC <scenario> <phase> <key> <base64 value>
//
// and closes with a record count; [ParseSerial] reads this back. Kernel messages
// go to the first serial port, kept for diagnostics. The parser also finds records
// amid kernel messages, so the same format can travel over a shared console.
//
// Steps run through a small static helper (e2e/internal/guestcmd, built with the
// go command and installed in the guest as /bin/klpc-guest) that makes exactly
// one system call per step and names the error of a failure, such as EINVAL.
//
// # Prerequisites
//
// scripts/e2e-setup.sh installs qemu, busybox-static, cpio and the kernel headers
// and unpacks the kernel image into the repository's .cache folder; [FindEnv]
// locates them. Tests call [EnvForTest], which skips when something is missing
// unless KLPC_E2E=1 is set, in which case a missing prerequisite fails the test:
//
//	bash scripts/e2e-setup.sh && KLPC_E2E=1 go test ./e2e
//
// # Kernel lines
//
// klpc is checked on three kernel lines ([Lines]): 6.1, 6.12 and 7.2, one
// Debian kernel each, which scripts/fetch-lines.sh (called by e2e-setup.sh)
// fetches; [FindEnvLine] locates one and [LinesForTest] returns every line
// that is ready (KLPC_E2E_LINES=6.1,7.2 picks some). Modules for 6.1 and 6.12
// build with the host's gcc-12 against installed or unpacked headers; 7.x
// headers need gcc-16 and glibc 2.38, so [BuildModule] builds them inside a
// Debian sid chroot ([Env].Chroot). Guests run under single-threaded TCG, and
// a boot that never reaches /init is tried again ([Env].BootRetries).
//
// Everything built or booted lives under <cache>/e2e: module builds in build/
// (keyed by a hash of their sources), the guest helper in guest/, and the
// initramfs and logs of each boot in run/ (removed after a boot that went
// well, kept after one that did not).
package e2e
