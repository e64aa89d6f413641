package e2e

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestLineRelease(t *testing.T) {
	cache := t.TempDir()
	if err := os.MkdirAll(filepath.Join(cache, "kernels"), 0o755); err != nil {
		t.Fatal(err)
	}
	write := func(line, data string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(cache, "kernels", "line-"+line), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if rel, err := LineRelease(cache, "6.1"); err != nil || rel != DefaultKernelRelease {
		t.Errorf("6.1 without a record: %q, %v", rel, err)
	}
	if _, err := LineRelease(cache, "6.12"); err == nil || !strings.Contains(err.Error(), "scripts/fetch-lines.sh 6.12") {
		t.Errorf("6.12 without a record: %v", err)
	}
	if _, err := LineRelease(cache, "5.10"); err == nil || !strings.Contains(err.Error(), "unknown kernel line") {
		t.Errorf("unknown line: %v", err)
	}
	write("6.12", "6.12.117+deb12-amd64\n")
	if rel, err := LineRelease(cache, "6.12"); err != nil || rel != "6.12.117+deb12-amd64" {
		t.Errorf("6.12: %q, %v", rel, err)
	}
	for _, bad := range []string{"", "\n", "../../etc", "a b"} {
		write("7.2", bad)
		_, err := LineRelease(cache, "7.2")
		if err == nil || !strings.Contains(err.Error(), filepath.Join(cache, "kernels", "line-7.2")) {
			t.Errorf("record %q: error %v does not name the file", bad, err)
		}
	}
}

func TestMakeCommand(t *testing.T) {
	ctx := context.Background()
	host := Env{Headers: "/usr/src/linux-headers-6.1.0-56-amd64"}
	cmd := makeCommand(ctx, host, "/c/e2e/build/k.tmp-1", true)
	want := []string{"make", "-C", host.Headers, "M=/c/e2e/build/k.tmp-1", "modules", "KBUILD_MODPOST_WARN=1"}
	if !reflect.DeepEqual(cmd.Args, want) {
		t.Errorf("host build: %q, want %q", cmd.Args, want)
	}
	chroot := Env{Headers: "/usr/src/linux-headers-7.2.13+deb14-amd64", Chroot: "/c/chroot/7.2.13+deb14-amd64"}
	cmd = makeCommand(ctx, chroot, "/c/chroot/7.2.13+deb14-amd64/build/k.tmp-1", false)
	want = []string{"unshare", "-m", "--propagation", "private", "chroot", chroot.Chroot, "/bin/sh", "-c",
		"mount -t proc proc /proc && exec make '-C' '/usr/src/linux-headers-7.2.13+deb14-amd64' 'M=/build/k.tmp-1' 'modules'"}
	if !reflect.DeepEqual(cmd.Args, want) {
		t.Errorf("chroot build: %q, want %q", cmd.Args, want)
	}
}

func TestHostHeaders(t *testing.T) {
	host := Env{Headers: "/usr/src/linux-headers-6.1.0-56-amd64"}
	if got := host.HostHeaders(); got != host.Headers {
		t.Errorf("host: %s", got)
	}
	chroot := Env{Headers: "/usr/src/linux-headers-7.2.13+deb14-amd64", Chroot: "/c/chroot/7.2.13+deb14-amd64"}
	if got, want := chroot.HostHeaders(), "/c/chroot/7.2.13+deb14-amd64/usr/src/linux-headers-7.2.13+deb14-amd64"; got != want {
		t.Errorf("chroot: %s, want %s", got, want)
	}
}
