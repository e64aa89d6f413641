// Command fleetgen writes a synthetic fleet for scripts/bench.sh:
//
//	go run ./scripts/fleetgen -kernels 50 -releases 30 -funcs 1000 -o DIR
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/klpc/klpc/internal/fleetgen"
)

func main() {
	var o fleetgen.Options
	var out string
	flag.IntVar(&o.Kernels, "kernels", 50, "kernel blocks")
	flag.IntVar(&o.Releases, "releases", 30, "cumulative releases")
	flag.IntVar(&o.Funcs, "funcs", 1000, "functions of the last release")
	flag.StringVar(&o.KernelDir, "kernel-dir", "kernels/6.1.0-56-amd64", "real 6.1 build the functions come from")
	flag.StringVar(&o.Release, "release", "6.1.0-56-amd64", "uname -r of every kernel")
	flag.StringVar(&out, "o", "", "output folder")
	flag.Parse()
	if out == "" {
		fmt.Fprintln(os.Stderr, "fleetgen: -o DIR is required")
		os.Exit(2)
	}
	if err := fleetgen.Write(out, o); err != nil {
		fmt.Fprintln(os.Stderr, "fleetgen:", err)
		os.Exit(1)
	}
}
