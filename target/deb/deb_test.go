package deb

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz"
)

type entry struct {
	name, body, link string
}

// buildDeb makes a .deb as dpkg-deb does: an ar archive of debian-binary,
// control.tar.gz and data.tar.<comp>.
func buildDeb(t testing.TB, comp string, entries []entry) []byte {
	var tb bytes.Buffer
	tw := tar.NewWriter(&tb)
	for _, e := range entries {
		h := &tar.Header{Name: e.name, Mode: 0o644, Size: int64(len(e.body)), Typeflag: tar.TypeReg}
		switch {
		case e.link != "":
			h.Typeflag, h.Linkname, h.Size = tar.TypeSymlink, e.link, 0
		case strings.HasSuffix(e.name, "/"):
			h.Typeflag, h.Mode = tar.TypeDir, 0o755
		}
		tw.WriteHeader(h)
		if h.Typeflag == tar.TypeReg {
			tw.Write([]byte(e.body))
		}
	}
	tw.Close()
	var data bytes.Buffer
	member := "data.tar"
	switch comp {
	case "gz":
		w := gzip.NewWriter(&data)
		w.Write(tb.Bytes())
		w.Close()
	case "xz":
		w, err := xz.NewWriter(&data)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(tb.Bytes())
		w.Close()
	case "zst":
		w, _ := zstd.NewWriter(&data)
		w.Write(tb.Bytes())
		w.Close()
	default:
		data.Write(tb.Bytes())
	}
	if comp != "" {
		member += "." + comp
	}
	var ctl bytes.Buffer
	gw := gzip.NewWriter(&ctl)
	ctw := tar.NewWriter(gw)
	ctw.Close()
	gw.Close()
	var ar bytes.Buffer
	ar.WriteString(arMagic)
	for _, m := range []struct {
		name string
		body []byte
	}{{"debian-binary", []byte("2.0\n")}, {"control.tar.gz", ctl.Bytes()}, {member, data.Bytes()}} {
		fmt.Fprintf(&ar, "%-16s%-12s%-6s%-6s%-8s%-10d`\n", m.name, "0", "0", "0", "100644", len(m.body))
		ar.Write(m.body)
		if len(m.body)%2 == 1 {
			ar.WriteByte('\n')
		}
	}
	return ar.Bytes()
}

var kernelEntries = []entry{
	{name: "./"},
	{name: "./boot/"},
	{name: "./boot/vmlinuz-6.1.0-9-amd64", body: "bzImage"},
	{name: "./boot/config-6.1.0-9-amd64", body: "CONFIG_X=y\n"},
	{name: "./boot/System.map-6.1.0-9-amd64", body: "The real System.map is in the linux-image-...-dbg package\n"},
	{name: "./lib/modules/6.1.0-9-amd64/kernel/fs/a.ko", body: "ELF a"},
	{name: "./lib/modules/6.1.0-9-amd64/kernel/fs/b.ko.xz", body: "xz b"},
	{name: "./lib/modules/6.1.0-9-amd64/modules.order", body: "kernel/fs/a.ko\n"},
	{name: "./usr/share/doc/linux-image/changelog.gz", body: "x"},
	{name: "./usr/lib/modules/6.1.0-9-amd64/kernel/c.ko.zst", link: "../../../../etc/passwd"},
	{name: "../../escape/lib/modules/6.1.0-9-amd64/d.ko", body: "escapes"},
}

func TestExtractKernel(t *testing.T) {
	for _, comp := range []string{"", "gz", "xz", "zst"} {
		dir := t.TempDir()
		debPath := filepath.Join(dir, "k.deb")
		os.WriteFile(debPath, buildDeb(t, comp, kernelEntries), 0o644)
		out := filepath.Join(dir, "out")
		files, err := ExtractKernel(debPath, out, DefaultLimits)
		if err != nil {
			t.Fatalf("%s: %v", comp, err)
		}
		var got []string
		for _, f := range files {
			got = append(got, fmt.Sprintf("%s %s %s %d", f.Kind, f.Release, f.Name, f.Size))
		}
		want := []string{
			"vmlinuz 6.1.0-9-amd64 boot/vmlinuz-6.1.0-9-amd64 7",
			"config 6.1.0-9-amd64 boot/config-6.1.0-9-amd64 11",
			"System.map 6.1.0-9-amd64 boot/System.map-6.1.0-9-amd64 58",
			"module 6.1.0-9-amd64 lib/modules/6.1.0-9-amd64/kernel/fs/a.ko 5",
			"module 6.1.0-9-amd64 lib/modules/6.1.0-9-amd64/kernel/fs/b.ko.xz 4",
			// "../../escape/lib/..." is cleaned to "escape/lib/...": not a
			// kernel path, and never written outside out.
		}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("%s: extracted\n%s\nwant\n%s", comp, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		if b, _ := os.ReadFile(filepath.Join(out, "lib/modules/6.1.0-9-amd64/kernel/fs/a.ko")); string(b) != "ELF a" {
			t.Errorf("%s: a.ko holds %q", comp, b)
		}
		var all []string
		filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
			if err == nil && !fi.IsDir() {
				all = append(all, p)
			}
			return nil
		})
		if len(all) != 6 { // the .deb and the five files
			t.Errorf("%s: files written: %v", comp, all)
		}
	}
}

func TestClassify(t *testing.T) {
	for _, tt := range []struct{ p, kind, rel string }{
		{"./boot/vmlinuz-6.1.0-56-amd64", KindVmlinuz, "6.1.0-56-amd64"},
		{"./usr/lib/modules/7.2.13+deb14-amd64/vmlinuz", KindVmlinuz, "7.2.13+deb14-amd64"},
		{"./usr/lib/modules/6.12.1/kernel/x/y.ko.xz", KindModule, "6.12.1"},
		{"./lib/modules/6.1/kernel/x/y.ko", KindModule, "6.1"},
		{"./lib/modules/6.1/modules.dep", "", ""},
		{"./boot/vmlinuz-", "", ""},
		{"./boot/grub/vmlinuz-1", "", ""},
		{"./lib/modules//x.ko", "", ""},
		{"lib/modules", "", ""},
	} {
		if k, r := Classify(tt.p); k != tt.kind || r != tt.rel {
			t.Errorf("Classify(%q) = %q %q, want %q %q", tt.p, k, r, tt.kind, tt.rel)
		}
	}
}

func TestBadPackages(t *testing.T) {
	good := buildDeb(t, "gz", kernelEntries)
	small := Limits{MaxEntry: 64, MaxExtract: 20, MaxStream: 1 << 20}
	for _, tt := range []struct {
		name string
		data []byte
		lim  Limits
		want string
	}{
		{"empty", nil, DefaultLimits, "no ar archive magic"},
		{"truncated", good[:len(good)-40], DefaultLimits, "data.tar.gz: bad"},
		{"not debian", []byte(arMagic + fmt.Sprintf("%-16s%-12s%-6s%-6s%-8s%-10d`\n", "x", "0", "0", "0", "644", 0)), DefaultLimits, "first member is not debian-binary"},
		{"bad size", []byte(arMagic + fmt.Sprintf("%-16s%-12s%-6s%-6s%-8s%-10s`\n", "debian-binary", "0", "0", "0", "644", "-5")), DefaultLimits, "bad ar member size"},
		{"no data", good[:len(arMagic)+60+4], DefaultLimits, "no data.tar member"},
		{"entry limit", good, Limits{MaxEntry: 8, MaxExtract: 1 << 20, MaxStream: 1 << 20}, "boot/config-6.1.0-9-amd64: 11 bytes is over"},
		{"total limit", good, small, "extraction limit"},
		{"stream limit", good, Limits{MaxEntry: 1 << 20, MaxExtract: 1 << 20, MaxStream: 600}, "data archive is larger than 600 bytes"},
	} {
		dir := t.TempDir()
		p := filepath.Join(dir, tt.name+".deb")
		os.WriteFile(p, tt.data, 0o644)
		_, err := ExtractKernel(p, filepath.Join(dir, "out"), tt.lim)
		if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), p+": ") {
			t.Errorf("%s: error %v, want one naming the package and saying %q", tt.name, err, tt.want)
		}
	}
}

func FuzzWalk(f *testing.F) {
	for _, comp := range []string{"", "gz", "xz", "zst"} {
		f.Add(buildDeb(f, comp, kernelEntries))
	}
	lim := Limits{MaxEntry: 1 << 16, MaxExtract: 1 << 18, MaxStream: 1 << 20}
	f.Fuzz(func(t *testing.T, data []byte) {
		Walk("fuzz.deb", bytes.NewReader(data), lim, func(h *tar.Header, body io.Reader) error {
			Classify(h.Name)
			if body != nil {
				_, err := io.Copy(io.Discard, body)
				return err
			}
			return nil
		})
	})
}

// TestDebianPackages reads the real kernel packages
// scripts/fetch-kernels.sh downloads and checks every kernel file against
// the one dpkg unpacked; the smaller packages are also extracted.
func TestDebianPackages(t *testing.T) {
	if os.Getenv("KLPC_INTEGRATION") != "1" {
		t.Skip("KLPC_INTEGRATION=1 reads the Debian kernel packages in .cache")
	}
	cache := filepath.Join("..", "..", ".cache", "kernels")
	debs, _ := filepath.Glob(filepath.Join(cache, "debs", "linux-*.deb"))
	ran := 0
	for _, debPath := range debs {
		base := filepath.Base(debPath)
		modulesOnly := strings.HasPrefix(base, "linux-modules-")
		if !strings.HasPrefix(base, "linux-image-") && !strings.HasPrefix(base, "linux-binary-") && !modulesOnly {
			continue
		}
		t.Run(base, func(t *testing.T) {
			ran++
			f, err := os.Open(debPath)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			kinds := map[string]int{}
			err = Walk(debPath, f, DefaultLimits, func(h *tar.Header, body io.Reader) error {
				kind, rel := Classify(h.Name)
				if kind == "" || body == nil {
					return nil
				}
				kinds[kind]++
				hash := sha256.New()
				if _, err := io.Copy(hash, body); err != nil {
					return err
				}
				var got [32]byte
				copy(got[:], hash.Sum(nil))
				if want := sum(t, filepath.Join(cache, rel, filepath.FromSlash(strings.TrimPrefix(h.Name, "./")))); got != want {
					t.Errorf("%s differs from the unpacked file", h.Name)
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%v", kinds)
			if modulesOnly && (kinds[KindVmlinuz] != 0 || kinds[KindModule] < 1000) || !modulesOnly && kinds[KindVmlinuz] != 1 {
				t.Errorf("unexpected kernel files: %v", kinds)
			}
			if st, _ := f.Stat(); st.Size() < 20<<20 {
				files, err := ExtractKernel(debPath, t.TempDir(), DefaultLimits)
				if err != nil || len(files) != kinds[KindVmlinuz]+kinds[KindModule]+kinds[KindConfig]+kinds[KindSystemMap] {
					t.Errorf("ExtractKernel: %d files, %v", len(files), err)
				}
			}
		})
	}
	if ran == 0 {
		t.Skip("no kernel package in " + cache + "/debs")
	}
}

func sum(t *testing.T, p string) [32]byte {
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return sha256.Sum256(b)
}
