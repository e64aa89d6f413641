package planhtml

import (
	"bytes"
	"context"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// chromium returns Debian's chromium, or skips: the browser test runs with
// KLPC_E2E=1 or KLPC_BROWSER=1 (scripts/e2e-setup.sh installs chromium).
func chromium(t *testing.T) string {
	t.Helper()
	if os.Getenv("KLPC_E2E") != "1" && os.Getenv("KLPC_BROWSER") != "1" {
		t.Skip("set KLPC_BROWSER=1 (or KLPC_E2E=1) to load the page in chromium")
	}
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Fatal("chromium is not installed (scripts/e2e-setup.sh installs it)")
	return ""
}

// headless runs chromium on a page with a fresh profile, no network and a
// time limit.
func headless(t *testing.T, bin, page string, args ...string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	all := append([]string{"--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
		"--no-first-run", "--user-data-dir=" + t.TempDir(), "--proxy-server=127.0.0.1:9", "--proxy-bypass-list=<-loopback>"}, args...)
	cmd := exec.CommandContext(ctx, bin, append(all, "file://"+page)...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium %v: %v\n%s", args, err, errb.String())
	}
	return out.Bytes()
}

// TestBrowser loads the page of examples/cumulative in a real headless
// browser: the DOM it builds has the timeline's cells, and the screenshot
// is a rendered page, not a blank one. KLPC_SCREENSHOT=path keeps the PNG.
func TestBrowser(t *testing.T) {
	bin := chromium(t)
	data, err := Render(planDir(t, "../../examples/cumulative"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	page := filepath.Join(dir, "plan.html")
	if err := os.WriteFile(page, data, 0o644); err != nil {
		t.Fatal(err)
	}

	dom := string(headless(t, bin, page, "--dump-dom"))
	for _, want := range []string{
		`<table class="timeline">`,
		`<td class="impl original changed reverted" data-step="4" data-impl="original" data-change="-"`,
		`data-impl="lp-2024-07:klpc_meminfo_proc_show"`,
		`<th class="step ok has-error" data-step="4" data-status="ok">`,
		`<div class="diag error" id="diag-1" data-code="replace-drops-fix">`,
		`<table class="matrix">`,
		`data-line="6.1"`,
	} {
		if !strings.Contains(dom, want) {
			t.Errorf("the DOM chromium built lacks %s", want)
		}
	}
	if n := strings.Count(dom, `<tr data-function=`); n != 3 {
		t.Errorf("the timeline has %d function rows, want 3", n)
	}

	shot := filepath.Join(dir, "plan.png")
	if keep := os.Getenv("KLPC_SCREENSHOT"); keep != "" {
		shot = keep
	}
	headless(t, bin, page, "--window-size=1280,1000", "--screenshot="+shot)
	f, err := os.Open(shot)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("the screenshot is not a PNG: %v", err)
	}
	if b := img.Bounds(); b.Dx() != 1280 || b.Dy() != 1000 {
		t.Errorf("screenshot of %v", b)
	}
	if n := colours(img); n < 8 {
		t.Errorf("the screenshot has %d colours: the page did not render", n)
	}
}

// colours counts the distinct colours of an image, up to 1000.
func colours(img image.Image) int {
	seen := map[[4]uint32]bool{}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y && len(seen) < 1000; y += 3 {
		for x := b.Min.X; x < b.Max.X; x += 3 {
			r, g, bl, a := img.At(x, y).RGBA()
			seen[[4]uint32{r, g, bl, a}] = true
		}
	}
	return len(seen)
}
