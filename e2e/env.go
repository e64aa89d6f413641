package e2e

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
)

// DefaultKernelRelease is the kernel the real-kernel tests boot, unless
// KLPC_E2E_KERNEL names another one unpacked by scripts/fetch-kernels.sh or
// scripts/fetch-lines.sh.
const DefaultKernelRelease = "6.1.0-56-amd64"

// Lines are the kernel lines klpc is checked on, oldest first:
// scripts/fetch-lines.sh fetches one Debian kernel of each.
var Lines = []string{"6.1", "6.12", "7.2"}

// modulePath is the Go module path of the repository, used to recognise its root.
const modulePath = "github.com/klpc/klpc"

// Env locates what the real-kernel tests need. FindEnv fills it from the
// places scripts/e2e-setup.sh puts things; fields may be set by hand.
type Env struct {
	// Root is the repository's root folder.
	Root string
	// Cache is the git-ignored cache folder (KLPC_CACHE, or Root/.cache).
	Cache string
	// Line is the kernel line, such as "6.12", when known.
	Line string
	// KernelRelease is the booted kernel's release, such as "6.1.0-56-amd64".
	KernelRelease string
	// Kernel is the kernel image (vmlinuz).
	Kernel string
	// Headers is the kernel's build folder that modules are built against:
	// a host path, or, when Chroot is set, a path inside the chroot.
	Headers string
	// Chroot, when set, is a root folder holding the compiler and Headers
	// that modules are built in (7.x needs a newer gcc and glibc than the
	// host's): sources are copied under Chroot/build, and make runs under
	// chroot in a private mount namespace with /proc mounted.
	Chroot string
	// Busybox is a statically linked busybox, the guest's only program.
	Busybox string
	// Qemu is qemu-system-x86_64.
	Qemu string
	// Go is the go command, which builds the guest's helper program.
	Go string
	// Settle bounds the wait for livepatch transitions after each step
	// (default 15 s).
	Settle time.Duration
	// BootTimeout bounds one guest boot; zero lets Run derive a bound from
	// the number of steps.
	BootTimeout time.Duration
	// Accel is qemu's accelerator: "tcg" (the default, pure emulation,
	// single-threaded) or "kvm" where hardware virtualization works;
	// KLPC_E2E_ACCEL sets it.
	Accel string
	// BootRetries is how many times a boot that never reached the guest's
	// /init is tried again (default 2; negative: never).
	BootRetries int
	// Log, when set, receives progress notes such as a boot tried again
	// (tests set it to t.Logf).
	Log func(format string, args ...any)
}

// FindEnv locates the repository, the kernel image, its headers, busybox and
// qemu for KLPC_E2E_KERNEL, or DefaultKernelRelease. The error lists
// everything missing.
func FindEnv() (Env, error) {
	rel := os.Getenv("KLPC_E2E_KERNEL")
	if rel == "" {
		rel = DefaultKernelRelease
	}
	return FindEnvRelease(rel)
}

// FindEnvLine is FindEnv for the kernel that scripts/fetch-lines.sh fetched
// for line (one of Lines).
func FindEnvLine(line string) (Env, error) {
	root, err := repoRoot()
	if err != nil {
		return Env{}, err
	}
	rel, err := LineRelease(cacheDir(root), line)
	if err != nil {
		return Env{Root: root, Cache: cacheDir(root), Line: line}, err
	}
	env, err := FindEnvRelease(rel)
	env.Line = line
	return env, err
}

// LineRelease returns the release scripts/fetch-lines.sh recorded for line
// in <cache>/kernels/line-<line>; 6.1 defaults to DefaultKernelRelease.
func LineRelease(cache, line string) (string, error) {
	if !slices.Contains(Lines, line) {
		return "", fmt.Errorf("unknown kernel line %q (want one of %s)", line, strings.Join(Lines, ", "))
	}
	f := filepath.Join(cache, "kernels", "line-"+line)
	data, err := os.ReadFile(f)
	if errors.Is(err, fs.ErrNotExist) && line == "6.1" {
		return DefaultKernelRelease, nil
	}
	if err != nil {
		return "", fmt.Errorf("kernel line %s not fetched (run scripts/fetch-lines.sh %s): %w", line, line, err)
	}
	rel := strings.TrimSpace(string(data))
	if rel == "" || strings.ContainsAny(rel, "/ \t\n") {
		return "", fmt.Errorf("%s: not a kernel release: %q", f, rel)
	}
	return rel, nil
}

// FindEnvRelease locates everything needed to build modules for and boot the
// kernel release rel. Headers are looked for, in order, installed on the
// host (/usr/src/linux-headers-REL), unpacked in <cache>/headers/REL, and in
// a build chroot <cache>/chroot/REL.
func FindEnvRelease(rel string) (Env, error) {
	var env Env
	var missing []string
	root, err := repoRoot()
	if err != nil {
		return env, err
	}
	env.Root = root
	env.Cache = cacheDir(root)
	env.KernelRelease = rel
	for _, l := range Lines {
		if strings.HasPrefix(rel, l+".") {
			env.Line = l
		}
	}
	env.Kernel = filepath.Join(env.Cache, "kernels", rel, "boot", "vmlinuz-"+rel)
	if !isFile(env.Kernel) {
		missing = append(missing, "kernel image "+env.Kernel)
	}
	hdr := "linux-headers-" + rel
	host := filepath.Join("/usr/src", hdr)
	unpacked := filepath.Join(env.Cache, "headers", rel, "usr", "src", hdr)
	chroot := filepath.Join(env.Cache, "chroot", rel)
	switch {
	case isFile(filepath.Join(host, "Makefile")):
		env.Headers = host
	case isFile(filepath.Join(unpacked, "Makefile")):
		env.Headers = unpacked
	case isFile(filepath.Join(chroot, ".complete")) && isFile(filepath.Join(chroot, "usr", "src", hdr, "Makefile")):
		env.Chroot = chroot
		env.Headers = filepath.Join("/usr/src", hdr)
	default:
		missing = append(missing, "kernel headers "+host+" (or "+unpacked+", or a build chroot "+chroot+")")
	}
	env.Busybox = "/bin/busybox"
	if !isFile(env.Busybox) {
		missing = append(missing, "static busybox "+env.Busybox)
	}
	if env.Qemu, err = exec.LookPath("qemu-system-x86_64"); err != nil {
		missing = append(missing, "qemu-system-x86_64")
	}
	if env.Go, err = exec.LookPath("go"); err != nil {
		// The suite runs under `go test` on the machine that built it, so the build's root is the right one.
		//lint:ignore SA1019 see above
		if g := filepath.Join(runtime.GOROOT(), "bin", "go"); isFile(g) {
			env.Go = g
		} else {
			missing = append(missing, "go")
		}
	}
	if env.Chroot != "" {
		for _, tool := range []string{"unshare", "chroot"} {
			if _, err := exec.LookPath(tool); err != nil {
				missing = append(missing, tool)
			}
		}
	} else if _, err := exec.LookPath("make"); err != nil {
		missing = append(missing, "make")
	}
	env.Settle = 15 * time.Second
	env.Accel = os.Getenv("KLPC_E2E_ACCEL")
	env.BootRetries = 2
	if len(missing) > 0 {
		return env, fmt.Errorf("real-kernel test prerequisites for %s missing (run scripts/e2e-setup.sh): %s", rel, strings.Join(missing, ", "))
	}
	return env, nil
}

// cacheDir is KLPC_CACHE, or root/.cache.
func cacheDir(root string) string {
	if c := os.Getenv("KLPC_CACHE"); c != "" {
		return c
	}
	return filepath.Join(root, ".cache")
}

// EnvForTest returns the environment for a real-kernel test. When something
// is missing the test is skipped, unless KLPC_E2E=1 is set: then it fails.
// Tests that boot the kernel are also skipped in -short mode.
func EnvForTest(t testing.TB) Env {
	t.Helper()
	required := os.Getenv("KLPC_E2E") == "1"
	if testing.Short() && !required {
		t.Skip("real-kernel test skipped in -short mode")
	}
	env, err := FindEnv()
	if err != nil {
		if required {
			t.Fatalf("KLPC_E2E=1: %v", err)
		}
		t.Skipf("%v (set KLPC_E2E=1 to make this a failure)", err)
	}
	return env
}

// LinesForTest returns the environments of the kernel lines a real-kernel
// test runs on: KLPC_E2E_LINES (comma-separated, such as "6.1,7.2"), or every
// line in Lines. A line listed in KLPC_E2E_LINES must be ready; of the
// default lines, those whose kernel scripts/fetch-lines.sh has not fetched
// are left out, except the default kernel's line, which is required as
// EnvForTest requires it. The test is skipped when no line is ready and
// KLPC_E2E=1 is not set.
func LinesForTest(t testing.TB) []Env {
	t.Helper()
	required := os.Getenv("KLPC_E2E") == "1"
	if testing.Short() && !required {
		t.Skip("real-kernel test skipped in -short mode")
	}
	lines, explicit := Lines, false
	if v := os.Getenv("KLPC_E2E_LINES"); v != "" {
		lines, explicit = strings.Split(v, ","), true
	}
	var envs []Env
	var errs []string
	for _, line := range lines {
		line = strings.TrimSpace(line)
		env, err := FindEnvLine(line)
		switch {
		case err == nil:
			envs = append(envs, env)
		case explicit || line == Lines[0]:
			errs = append(errs, err.Error())
		default:
			t.Logf("kernel line %s left out: %v", line, err)
		}
	}
	if len(errs) > 0 {
		if required {
			t.Fatalf("KLPC_E2E=1: %s", strings.Join(errs, "; "))
		}
		if len(envs) == 0 {
			t.Skipf("%s (set KLPC_E2E=1 to make this a failure)", strings.Join(errs, "; "))
		}
		t.Logf("kernel lines left out: %s", strings.Join(errs, "; "))
	}
	return envs
}

// HostHeaders returns Headers as the host sees it: inside Chroot when one is
// set (for reading Module.symvers or .config, or naming the headers in a
// klpc kernel block), else Headers itself.
func (env Env) HostHeaders() string {
	if env.Chroot == "" {
		return env.Headers
	}
	return filepath.Join(env.Chroot, env.Headers)
}

// ProbeDir returns the folder holding the probe module's sources.
func (env Env) ProbeDir() string { return filepath.Join(env.Root, "e2e", "probe") }

// repoRoot finds the repository's root: KLPC_ROOT, or the nearest folder
// above the working directory whose go.mod declares the klpc module.
func repoRoot() (string, error) {
	if r := os.Getenv("KLPC_ROOT"); r != "" {
		return filepath.Abs(r)
	}
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if declaresModule(filepath.Join(dir, "go.mod")) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("cannot find the klpc repository above the working directory (set KLPC_ROOT)")
		}
		dir = parent
	}
}

// declaresModule reports whether the go.mod file at path declares the klpc module.
func declaresModule(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if f := strings.Fields(sc.Text()); len(f) == 2 && f[0] == "module" {
			return strings.Trim(f[1], `"`) == modulePath
		}
	}
	return false
}

func isFile(path string) bool {
	st, err := os.Stat(path)
	return err == nil && st.Mode().IsRegular()
}
