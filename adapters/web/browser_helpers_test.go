package web_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/flowbot/flowbot/internal/testkit"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"
)

const chromiumPath = "/usr/bin/chromium"

// newBrowser starts a headless Chromium for the test, or skips (fails under
// CI=true) when none is installed.
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	path := chromiumPath
	if _, err := os.Stat(path); err != nil {
		p, lerr := exec.LookPath("chromium")
		if lerr != nil {
			testkit.Unavailable(t, "browser test: no Chromium at %s (apt-get install -y chromium chromium-driver)", chromiumPath)
		}
		path = p
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 860),
	)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	t.Cleanup(cancel)
	actx, acancel := chromedp.NewExecAllocator(ctx, opts...)
	t.Cleanup(acancel)
	bctx, bcancel := chromedp.NewContext(actx)
	t.Cleanup(bcancel)
	require.NoError(t, chromedp.Do(bctx), "start chromium")
	return bctx
}

// openTab opens url in a new tab of the browser and waits until the page
// is live (its event stream is open).
func openTab(t *testing.T, browser context.Context, url string) context.Context {
	t.Helper()
	ctx, cancel := chromedp.NewContext(browser)
	t.Cleanup(cancel)
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Navigate(url),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="live"][data-state="on"]`)),
	), "open %s", url)
	return ctx
}

// waitJS polls a JavaScript predicate in the tab until it is true.
func waitJS(t *testing.T, tab context.Context, what, expr string) {
	t.Helper()
	_, err := chromedp.Run(tab, chromedp.Poll[chromedp.Void](expr,
		chromedp.WithPollingInterval(50*time.Millisecond),
		chromedp.WithPollingTimeout(15*time.Second)))
	require.NoError(t, err, "wait for %s", what)
}

// lastCardJS is the last card of the chat with a title containing s.
func lastCardJS(s string) string {
	return fmt.Sprintf(`[...document.querySelectorAll('[data-testid="card"]')].filter(c => c.querySelector('[data-testid="card-title"]').textContent.includes(%s)).pop()`, strconv.Quote(s))
}

// typeAndSend types text into the composer and presses send.
func typeAndSend(t *testing.T, tab context.Context, text string) {
	t.Helper()
	require.NoError(t, chromedp.Do(tab,
		chromedp.SendKeys(chromedp.CSS(`[data-testid="input"]`), text),
		chromedp.Click(chromedp.CSS(`[data-testid="send"]`)),
	), "send %q", text)
}

// evalJS runs expr in the tab.
func evalJS(t *testing.T, tab context.Context, expr string) {
	t.Helper()
	_, err := chromedp.Run(tab, chromedp.Evaluate[chromedp.Void](expr))
	require.NoError(t, err, "eval %s", expr)
}

// screenshot saves a full-page PNG under testout/screenshots at the repo root.
func screenshot(t *testing.T, tab context.Context, name string) string {
	t.Helper()
	png, err := chromedp.Run(tab, chromedp.FullScreenshot(100))
	require.NoError(t, err, "screenshot %s", name)
	dir := filepath.Join(repoRoot(t), "testout", "screenshots")
	require.NoError(t, os.MkdirAll(dir, 0o755))
	path := filepath.Join(dir, name+".png")
	require.NoError(t, os.WriteFile(path, png, 0o644))
	return path
}

func repoRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	require.NoError(t, err)
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		require.NotEqual(t, parent, dir, "no go.mod above the test")
		dir = parent
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
