package e2e

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// helperPackage is the guest's helper program, installed as /bin/klpc-guest.
const helperPackage = "./e2e/internal/guestcmd"

// buildHelper builds the guest's helper program, a static linux/amd64
// binary, and returns its path. The binary is cached under
// <cache>/e2e/guest/ by a hash of the helper's source and of the go command.
func buildHelper(ctx context.Context, env Env) (string, error) {
	src, err := os.ReadFile(filepath.Join(env.Root, "e2e", "internal", "guestcmd", "main.go"))
	if err != nil {
		return "", fmt.Errorf("reading the guest helper's source: %w", err)
	}
	h := sha256.New()
	fmt.Fprintf(h, "go %s\n", env.Go)
	h.Write(src)
	out := filepath.Join(env.Cache, "e2e", "guest", hex.EncodeToString(h.Sum(nil))[:24], "klpc-guest")
	if isFile(out) {
		return out, nil
	}
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return "", err
	}
	tmp := out + ".tmp"
	cmd := exec.CommandContext(ctx, env.Go, "build", "-trimpath", "-ldflags=-s -w", "-o", tmp, helperPackage)
	cmd.Dir = env.Root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=amd64")
	var msg bytes.Buffer
	cmd.Stdout, cmd.Stderr = &msg, &msg
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("building the guest helper: %v\n%s", err, msg.String())
	}
	if err := os.Rename(tmp, out); err != nil {
		return "", err
	}
	return out, nil
}
