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

	"github.com/flowbot/flowbot/flows/workcal"
)

// TestReportInBrowser opens the monthly report through its signed link
// in headless Chromium, in Chinese and English: the chart loads, the
// planted bottleneck is named, the print button is there; screenshots go
// to testout/screenshots/report-zh.png and report-en.png.
func TestReportInBrowser(t *testing.T) {
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
	env := reportServer(t, reportHistory(t), nil)
	nov := time.Date(2026, 11, 1, 0, 0, 0, 0, workcal.Default().Location)
	tok := env.signer.Token("expense", nov, "sunli", "")
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(path), chromedp.Headless, chromedp.NoSandbox,
		chromedp.DisableGPU, chromedp.NoFirstRun, chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1000, 900))
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	t.Cleanup(cancel)
	actx, acancel := chromedp.NewExecAllocator(ctx, opts...)
	t.Cleanup(acancel)
	tab, tcancel := chromedp.NewContext(actx)
	t.Cleanup(tcancel)
	dir := filepath.Join("..", "testout", "screenshots")
	require.NoError(t, os.MkdirAll(dir, 0o755))
	for _, tt := range []struct{ lang, bottleneck, print string }{
		{"zh", "财务审批", "打印 / 存为 PDF"},
		{"en", "Finance approval", "Print / save as PDF"},
	} {
		require.NoError(t, chromedp.Do(tab, chromedp.Navigate(env.public.URL+"/"+"report?lang="+tt.lang+"&t="+tok), chromedp.WaitVisible(chromedp.CSS(`img.chart`))))
		// The chart loaded: a picture of its full width.
		_, err := chromedp.Run(tab, chromedp.Poll[bool](`document.querySelector('img.chart').complete && document.querySelector('img.chart').naturalWidth > 0`, chromedp.WithPollingTimeout(20*time.Second)))
		require.NoError(t, err)
		width, err := chromedp.Run(tab, chromedp.Evaluate[int](`document.querySelector('img.chart').naturalWidth`))
		require.NoError(t, err)
		require.Equal(t, 720, width)
		bn, err := chromedp.Run(tab, chromedp.Evaluate[string](`document.querySelector('[data-testid=bottleneck]').textContent`))
		require.NoError(t, err)
		require.Contains(t, bn, tt.bottleneck)
		btn, err := chromedp.Run(tab, chromedp.Evaluate[string](`document.querySelector('nav button').textContent`))
		require.NoError(t, err)
		require.Equal(t, tt.print, btn)
		png, err := chromedp.Run(tab, chromedp.FullScreenshot(100))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(dir, "report-"+tt.lang+".png"), png, 0o644))
	}
}
