// Command klpc compiles Linux kernel livepatches described in HCL: it
// checks them against kernel builds, simulates deployments on a model of the
// kernel's livepatch core and emits build inputs.
package main

import (
	"os"

	"github.com/klpc/klpc/internal/cli"
)

func main() {
	os.Exit(cli.Main())
}
