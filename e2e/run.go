package e2e

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// bootCmdline is the kernel command line of every guest boot.
const bootCmdline = "console=ttyS0 panic=-1 quiet"

// Run performs the scenarios in a real kernel and returns one Result per
// scenario, in order.
//
// Scenarios share guest boots: the guest runs them one after another, and
// between two scenarios it disables every livepatch, removes every module and
// checks that nothing is left. A scenario whose cleanup fails ends the boot
// (its Result has Clean false) and the following scenarios run in a fresh
// boot, as do the scenarios after one marked Isolate. A scenario during which the guest died or hung gets an Err and is not
// retried; the scenarios after it run in a fresh boot.
//
// The error is non-nil when the guest could not be booted or its output
// could not be trusted, or when some Result has an Err (the error then joins
// them); the results are returned either way, complete as far as they go.
func Run(ctx context.Context, env Env, scenarios ...Scenario) ([]Result, error) {
	names := map[string]bool{}
	for i := range scenarios {
		sc := &scenarios[i]
		if err := sc.validate(); err != nil {
			return nil, err
		}
		if names[sc.Name] {
			return nil, fmt.Errorf("two scenarios are named %q", sc.Name)
		}
		names[sc.Name] = true
		for name, path := range sc.Modules {
			if !isFile(path) {
				return nil, fmt.Errorf("scenario %q: module %q: no file %s", sc.Name, name, path)
			}
		}
		for _, st := range sc.Steps {
			if st.File != "" && !isFile(st.File) {
				return nil, fmt.Errorf("scenario %q: module %q: no file %s", sc.Name, st.Module, st.File)
			}
		}
	}
	results := make([]Result, len(scenarios))
	for i := range results {
		results[i].Scenario = scenarios[i].Name
	}
	next, retried := 0, 0
	for boot := 0; next < len(scenarios); boot++ {
		out, err := bootGuest(ctx, env, scenarios, next)
		if err != nil {
			return results, err
		}
		recs, complete, perr := ParseSerial(out.results)
		// A guest that never reached /init (no record at all) met trouble
		// while booting, such as the occasional oops of 6.12 and 7.2 under
		// emulation: boot it again, a bounded number of times.
		if len(recs) == 0 && perr == nil && retried < env.BootRetries {
			retried++
			env.logf("boot %d of %s did not reach /init (%s); booting again", boot, env.KernelRelease, firstLine(out.why(complete)))
			os.RemoveAll(out.dir)
			boot--
			continue
		}
		if perr != nil {
			return results, fmt.Errorf("boot %d: the guest's results are damaged: %w; logs kept in %s", boot, perr, out.dir)
		}
		env.logf("boot %d of %s: /init after %ss of guest time, %s in all", boot, env.KernelRelease, initUptime(recs), out.elapsed.Round(time.Second/10))
		groups, cmdline := groupRecords(recs)
		first, keep := next, false
		for s := next; s < len(scenarios); s++ {
			res, ok := assemble(&scenarios[s], groups[s], cmdline)
			res.Boot = boot
			if !ok {
				if groups[s] == nil {
					break // not started in this boot
				}
				why := fmt.Sprintf("the guest stopped during the scenario (%s); logs kept in %s", out.why(complete), out.dir)
				res.Err = strings.TrimPrefix(res.Err+"; "+why, "; ")
				results[s] = res
				next, keep = s+1, true
				break
			}
			results[s] = res
			next = s + 1
			if !res.Clean || scenarios[s].Isolate {
				break // the guest powers off after a failed cleanup or an isolated scenario
			}
		}
		if next == first {
			return results, fmt.Errorf("boot %d ran no scenario (%s); logs kept in %s", boot, out.why(complete), out.dir)
		}
		if !keep {
			os.RemoveAll(out.dir)
		}
	}
	var errs []error
	for _, r := range results {
		if r.Err != "" {
			errs = append(errs, fmt.Errorf("scenario %q: %s", r.Scenario, r.Err))
		}
	}
	return results, errors.Join(errs...)
}

// bootOutput is what one guest boot left behind.
type bootOutput struct {
	dir      string // work folder: initramfs, console and results logs
	results  []byte // the results port (ttyS1)
	console  []byte // the console (ttyS0): kernel messages
	qemu     string // qemu's own output
	qemuErr  error  // qemu's exit error, if any
	timedOut bool
	elapsed  time.Duration
}

// why explains, for an error message, how the boot ended.
func (o *bootOutput) why(complete bool) string {
	var parts []string
	switch {
	case o.timedOut:
		parts = append(parts, fmt.Sprintf("the guest was stopped after %s", o.elapsed.Round(time.Second)))
	case o.qemuErr != nil:
		parts = append(parts, fmt.Sprintf("qemu: %v", o.qemuErr))
	case !complete:
		parts = append(parts, "the guest powered off without finishing")
	default:
		parts = append(parts, "the guest finished")
	}
	if q := strings.TrimSpace(o.qemu); q != "" {
		parts = append(parts, "qemu said: "+tail(q, 5))
	}
	if c := strings.TrimSpace(string(o.console)); c != "" {
		parts = append(parts, "console ends with:\n"+tail(c, 25))
	}
	return strings.Join(parts, "; ")
}

// bootGuest boots the kernel with an initramfs that runs scenarios[first:]
// and returns what the guest wrote. The error is for failures to set up or
// start the guest; a guest that crashes or hangs is reported in the output.
func bootGuest(ctx context.Context, env Env, scenarios []Scenario, first int) (*bootOutput, error) {
	settle := env.Settle
	if settle <= 0 {
		settle = 15 * time.Second
	}
	script, files := guestScript(scenarios, first, int((settle+time.Second-1)/time.Second))
	busybox, err := os.ReadFile(env.Busybox)
	if err != nil {
		return nil, fmt.Errorf("reading busybox: %w", err)
	}
	helperPath, err := buildHelper(ctx, env)
	if err != nil {
		return nil, err
	}
	helper, err := os.ReadFile(helperPath)
	if err != nil {
		return nil, err
	}
	entries := []cpioEntry{
		{name: "init", mode: cpioFile | 0o755, data: []byte(script)},
		{name: "bin/busybox", mode: cpioFile | 0o755, data: busybox},
		{name: "bin/klpc-guest", mode: cpioFile | 0o755, data: helper},
		{name: "dev/console", mode: cpioChar | 0o600, major: 5, minor: 1},
		{name: "proc", mode: cpioDir | 0o755},
		{name: "sys", mode: cpioDir | 0o755},
		{name: "tmp", mode: cpioDir | 0o1777},
	}
	for _, f := range files {
		data, err := os.ReadFile(f.host)
		if err != nil {
			return nil, fmt.Errorf("reading module: %w", err)
		}
		entries = append(entries, cpioEntry{name: f.path, mode: cpioFile | 0o644, data: data})
	}
	initrd, err := gzipCpio(entries)
	if err != nil {
		return nil, fmt.Errorf("packing the initramfs: %w", err)
	}
	runRoot := filepath.Join(env.Cache, "e2e", "run")
	if err := os.MkdirAll(runRoot, 0o755); err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp(runRoot, "boot-")
	if err != nil {
		return nil, err
	}
	out := &bootOutput{dir: dir}
	initrdPath := filepath.Join(dir, "initrd.gz")
	consolePath := filepath.Join(dir, "console.log")
	resultsPath := filepath.Join(dir, "results.log")
	if err := os.WriteFile(initrdPath, initrd, 0o644); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, "init.sh"), []byte(script), 0o644); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}

	limit := env.BootTimeout
	if limit <= 0 {
		limit = 90 * time.Second
		for _, sc := range scenarios[first:] {
			limit += 10*time.Second + time.Duration(len(sc.Steps)+2)*(settle+10*time.Second)
		}
	}
	bootCtx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	// Single-threaded TCG: multi-threaded TCG occasionally oopsed 6.12 and
	// 7.2 guests at boot on a busy host (docs: kernel-lines.md).
	accel := env.Accel
	if accel == "" || accel == "tcg" {
		accel = "tcg,thread=single"
	}
	cmd := exec.CommandContext(bootCtx, env.Qemu,
		"-accel", accel,
		"-m", "1024", "-smp", "2",
		"-display", "none", "-monitor", "none", "-nic", "none", "-no-reboot",
		"-serial", "file:"+consolePath,
		"-serial", "file:"+resultsPath,
		"-kernel", env.Kernel,
		"-initrd", initrdPath,
		"-append", bootCmdline,
	)
	var qemuOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &qemuOut, &qemuOut
	cmd.Stdin = nil
	cmd.WaitDelay = 5 * time.Second
	start := time.Now()
	runErr := cmd.Run()
	out.elapsed = time.Since(start)
	out.qemu = qemuOut.String()
	if ctx.Err() != nil {
		os.RemoveAll(dir)
		return nil, ctx.Err()
	}
	if bootCtx.Err() != nil {
		out.timedOut = true
	} else if runErr != nil {
		out.qemuErr = runErr
		var exitErr *exec.ExitError
		if !errors.As(runErr, &exitErr) {
			os.RemoveAll(dir)
			return nil, fmt.Errorf("starting qemu: %w", runErr)
		}
	}
	out.results, _ = os.ReadFile(resultsPath)
	out.console, _ = os.ReadFile(consolePath)
	return out, nil
}

// firstLine returns s up to its first line break.
func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

// logf reports progress through env.Log, when set.
func (env Env) logf(format string, args ...any) {
	if env.Log != nil {
		env.Log(format, args...)
	}
}

// initUptime returns the guest's uptime in seconds when its /init started,
// as the guest recorded it, or "?".
func initUptime(recs []Record) string {
	for _, r := range recs {
		if r.Scenario < 0 && r.Key == "uptime" {
			return r.Value
		}
	}
	return "?"
}
