// Command klpc compiles Linux kernel livepatches described in HCL: it
// checks them against kernel builds, simulates deployments on a model of the
// kernel's livepatch core and emits build inputs.
//
// KLPC_CPUPROFILE=FILE writes a pprof CPU profile of the run to FILE, and
// KLPC_MEMPROFILE=FILE a heap profile at its end (scripts/bench.sh).
package main

import (
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"

	"github.com/klpc/klpc/internal/cli"
)

func main() {
	if p := os.Getenv("KLPC_CPUPROFILE"); p != "" {
		f, err := os.Create(p)
		if err != nil {
			fmt.Fprintln(os.Stderr, "klpc:", err)
			os.Exit(2)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintln(os.Stderr, "klpc:", err)
			os.Exit(2)
		}
		code := cli.Main()
		pprof.StopCPUProfile()
		f.Close()
		os.Exit(code)
	}
	code := cli.Main()
	if p := os.Getenv("KLPC_MEMPROFILE"); p != "" {
		if f, err := os.Create(p); err == nil {
			runtime.GC()
			_ = pprof.WriteHeapProfile(f)
			f.Close()
		}
	}
	os.Exit(code)
}
