package e2e

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// DefaultKernelRelease is the kernel the real-kernel tests boot, unless
// KLPC_E2E_KERNEL names another one unpacked by scripts/fetch-kernels.sh.
const DefaultKernelRelease = "6.1.0-56-amd64"

// modulePath is the Go module path of the repository, used to recognise its root.
const modulePath = "github.com/klpc/klpc"

// Env locates what the real-kernel tests need. FindEnv fills it from the
// places scripts/e2e-setup.sh puts things; fields may be set by hand.
type Env struct {
	// Root is the repository's root folder.
	Root string
	// Cache is the git-ignored cache folder (KLPC_CACHE, or Root/.cache).
	Cache string
	// KernelRelease is the booted kernel's release, such as "6.1.0-56-amd64".
	KernelRelease string
	// Kernel is the kernel image (vmlinuz).
	Kernel string
	// Headers is the kernel's build folder that modules are built against.
	Headers string
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
	// Accel is qemu's accelerator: "tcg" (the default, pure emulation) or
	// "kvm" where hardware virtualization works; KLPC_E2E_ACCEL sets it.
	Accel string
}

// FindEnv locates the repository, the kernel image, its headers, busybox and
// qemu. The error lists everything missing.
func FindEnv() (Env, error) {
	var env Env
	var missing []string
	root, err := repoRoot()
	if err != nil {
		return env, err
	}
	env.Root = root
	env.Cache = os.Getenv("KLPC_CACHE")
	if env.Cache == "" {
		env.Cache = filepath.Join(root, ".cache")
	}
	env.KernelRelease = os.Getenv("KLPC_E2E_KERNEL")
	if env.KernelRelease == "" {
		env.KernelRelease = DefaultKernelRelease
	}
	env.Kernel = filepath.Join(env.Cache, "kernels", env.KernelRelease, "boot", "vmlinuz-"+env.KernelRelease)
	if !isFile(env.Kernel) {
		missing = append(missing, "kernel image "+env.Kernel)
	}
	env.Headers = filepath.Join("/usr/src", "linux-headers-"+env.KernelRelease)
	if !isFile(filepath.Join(env.Headers, "Makefile")) {
		missing = append(missing, "kernel headers "+env.Headers)
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
	if _, err := exec.LookPath("make"); err != nil {
		missing = append(missing, "make")
	}
	env.Settle = 15 * time.Second
	env.Accel = os.Getenv("KLPC_E2E_ACCEL")
	if len(missing) > 0 {
		return env, fmt.Errorf("real-kernel test prerequisites missing (run scripts/e2e-setup.sh): %s", strings.Join(missing, ", "))
	}
	return env, nil
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
