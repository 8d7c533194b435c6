package dashboard_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/dashboard"
)

// TestDashboardInBrowser draws the dashboard in headless Chromium, reads
// the heat map's fill of the planted bottleneck from the rendered SVG and
// saves a screenshot to testout/screenshots/dashboard.png.
func TestDashboardInBrowser(t *testing.T) {
	t.Parallel()
	path := "/usr/bin/chromium"
	if _, err := os.Stat(path); err != nil {
		p, lerr := exec.LookPath("chromium")
		if lerr != nil {
			msg := "!!! SKIPPING BROWSER TEST: no Chromium (apt-get install -y chromium) !!!"
			if os.Getenv("CI") == "true" {
				t.Fatal(msg)
			}
			t.Skip(msg)
		}
		path = p
	}
	srv := server(t, history(t, 300))
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(path), chromedp.Headless, chromedp.NoSandbox,
		chromedp.DisableGPU, chromedp.NoFirstRun, chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1280, 900))
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	t.Cleanup(cancel)
	actx, acancel := chromedp.NewExecAllocator(ctx, opts...)
	t.Cleanup(acancel)
	tab, tcancel := chromedp.NewContext(actx)
	t.Cleanup(tcancel)
	require.NoError(t, chromedp.Do(tab, chromedp.Navigate(srv.URL+"/?lang=en"), chromedp.WaitVisible(chromedp.CSS(`svg.heat`))))
	fill, err := chromedp.Run(tab, chromedp.Evaluate[string](`document.querySelector('svg.heat[data-flow="expense"] rect[data-step="finance"]').getAttribute('fill')`))
	require.NoError(t, err)
	require.Equal(t, dashboard.Heat[len(dashboard.Heat)-1], fill, "the planted bottleneck is the hottest")
	other, err := chromedp.Run(tab, chromedp.Evaluate[string](`document.querySelector('svg.heat[data-flow="expense"] rect[data-step="manager"]').getAttribute('fill')`))
	require.NoError(t, err)
	require.NotEqual(t, fill, other)
	png, err := chromedp.Run(tab, chromedp.FullScreenshot(100))
	require.NoError(t, err)
	dir := filepath.Join("..", "testout", "screenshots")
	require.NoError(t, os.MkdirAll(dir, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "dashboard.png"), png, 0o644))
}
