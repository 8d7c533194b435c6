package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/internal/testkit"
)

// TestSignInInBrowser drives sign-in in headless Chromium against the fake
// identity provider: the playground sends to the provider's page, the
// person picks their account, comes back signed in as themselves, chats,
// is refused the dashboard (an employee), signs out; a stranger gets the
// "not in the directory" page. Screenshots: testout/screenshots/signin-*.png.
func TestSignInInBrowser(t *testing.T) {
	t.Parallel()
	path := "/usr/bin/chromium"
	if _, err := os.Stat(path); err != nil {
		p, lerr := exec.LookPath("chromium")
		if lerr != nil {
			testkit.Unavailable(t, "browser test: no Chromium at %s (apt-get install -y chromium)", path)
		}
		path = p
	}
	s := startSignedIn(t)
	s.idp.SignInAs("") // show the provider's account picker
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(path), chromedp.Headless, chromedp.NoSandbox,
		chromedp.DisableGPU, chromedp.NoFirstRun, chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1200, 800))
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	t.Cleanup(cancel)
	actx, acancel := chromedp.NewExecAllocator(ctx, opts...)
	t.Cleanup(acancel)
	tab, tcancel := chromedp.NewContext(actx)
	t.Cleanup(tcancel)
	shot := func(name string) {
		t.Helper()
		png, err := chromedp.Run(tab, chromedp.FullScreenshot(100))
		require.NoError(t, err)
		dir := filepath.Join(moduleRoot(t), "testout", "screenshots")
		require.NoError(t, os.MkdirAll(dir, 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644))
	}
	waitJS := func(what, expr string) {
		t.Helper()
		_, err := chromedp.Run(tab, chromedp.Poll[chromedp.Void](expr,
			chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(15*time.Second)))
		require.NoError(t, err, "wait for %s", what)
	}
	text := func(expr string) string {
		t.Helper()
		v, err := chromedp.Run(tab, chromedp.Evaluate[string](expr))
		require.NoError(t, err)
		return v
	}

	require.NoError(t, chromedp.Do(tab, chromedp.Navigate(s.base+"/ui/"), chromedp.WaitVisible(chromedp.CSS(`[data-testid="idp"]`))),
		"the playground sends an unsigned visitor to the provider")
	shot("signin-1-provider")
	require.NoError(t, chromedp.Do(tab, chromedp.Click(chromedp.CSS(`[data-testid="idp-s-han"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="signout"]`))))
	waitJS("the playground to be live", `document.querySelector('[data-testid="live"]').dataset.state === "on"`)
	require.True(t, text(`location.pathname`) == "/ui/", "back on the playground")
	require.Contains(t, text(`document.querySelector('[data-testid="current-user"]').textContent`), "韩梅梅")
	require.Equal(t, "1", text(`String(document.querySelectorAll('[data-testid="user-list"] li').length)`), "only oneself in the list")
	require.Equal(t, "true", text(`String(document.querySelector('[data-testid="demo-banner"]').hidden)`), "no demo banner")

	require.NoError(t, chromedp.Do(tab, chromedp.SendKeys(chromedp.CSS(`[data-testid="input"]`), "/help"),
		chromedp.Click(chromedp.CSS(`[data-testid="send"]`))))
	waitJS("the bot's answer", `document.querySelectorAll('[data-testid="messages"] .from-bot, [data-testid="messages"] [data-from="bot"]').length > 0`)
	shot("signin-2-playground")

	require.NoError(t, chromedp.Do(tab, chromedp.Navigate(s.base+"/ui/dashboard/?lang=en")))
	require.Contains(t, text(`document.body.innerText`), "you may not see statistics", "an employee is refused the dashboard")
	shot("signin-3-dashboard-refused")

	require.NoError(t, chromedp.Do(tab, chromedp.Navigate(s.base+"/ui/"), chromedp.WaitVisible(chromedp.CSS(`[data-testid="signout"]`))))
	waitJS("the CSRF token in the sign-out form", `document.querySelector('[data-testid="signout-form"] input[name=csrf_token]').value !== ""`)
	require.NoError(t, chromedp.Do(tab, chromedp.Click(chromedp.CSS(`[data-testid="signout"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="signin-page"]`))))
	require.Contains(t, text(`document.body.innerText`), "Signed out")
	shot("signin-4-signed-out")

	require.NoError(t, chromedp.Do(tab, chromedp.Navigate(s.base+"/ui/"), chromedp.WaitVisible(chromedp.CSS(`[data-testid="idp"]`))),
		"after signing out the playground asks to sign in again")
	require.NoError(t, chromedp.Do(tab, chromedp.Click(chromedp.CSS(`[data-testid="idp-s-x"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="signin-page"]`))))
	body := text(`document.body.innerText`)
	require.Contains(t, body, "你不在通讯录中")
	require.Contains(t, body, "You are not in the directory")
	shot("signin-5-unknown-user")
}
