package web_test

import (
	"context"
	"errors"
	"log/slog"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/adapters/web"
	"github.com/flowbot/flowbot/bots"
)

// Times on the page are in the selected user's time zone (as on the cards),
// 24-hour, whatever the browser's zone; a text the server refuses stays in
// the input box.
func TestBrowserTimesAndRefusedText(t *testing.T) {
	t.Parallel()
	browser := newBrowser(t)
	now := time.Date(2026, 11, 26, 3, 57, 0, 0, time.UTC) // 11:57 in Shanghai, 03:57 in London
	users := []web.User{
		{ID: "li", Name: "李雷", Locale: "zh-CN", TZ: "Asia/Shanghai"},
		{ID: "tom", Name: "Tom Baker", Locale: "en", TZ: "Europe/London"},
		{ID: "nobody", Name: "无时区"},
		{ID: "mars", Name: "火星", TZ: "Mars/Olympus_Mons"},
	}
	h := &fakeHandler{HandleFunc: func(ctx context.Context, ev bots.Event) (bots.Reply, error) {
		if ev.Text == "fail" {
			return bots.Reply{}, errors.New("bot down")
		}
		return bots.Reply{Messages: []bots.Message{{Text: "ok: " + ev.Text}}}, nil
	}}
	a := web.New(web.Config{
		Handler: h, Demo: true, Now: func() time.Time { return now }, Logger: slog.New(slog.DiscardHandler),
		Users: func(ctx context.Context) ([]web.User, error) { return users, nil },
	})
	srv := httptest.NewServer(a.Handler())
	t.Cleanup(srv.Close)

	// The browser runs in New York, where it is still 22:57 the day before.
	tab, cancel := chromedp.NewContext(browser)
	t.Cleanup(cancel)
	require.NoError(t, chromedp.Do(tab)) // start the tab
	_, err := chromedp.Call(tab, emulation.SetTimezoneOverride, emulation.SetTimezoneOverrideParams{TimezoneID: "America/New_York"})
	require.NoError(t, err)
	require.NoError(t, chromedp.Do(tab,
		chromedp.Navigate(srv.URL+"/?as=li"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="live"][data-state="on"]`)),
	))
	browserTZ, err := chromedp.Run(tab, chromedp.Evaluate[string](`Intl.DateTimeFormat().resolvedOptions().timeZone`))
	require.NoError(t, err)
	require.Equal(t, "America/New_York", browserTZ)

	const clockJS = `document.querySelector('[data-testid="clock"]').textContent`
	const lastTimeJS = `[...document.querySelectorAll('.msg .time')].pop().textContent`
	const inputJS = `document.querySelector('[data-testid="input"]').value`
	tests := []struct {
		user, clock, time string
	}{
		{"li", "2026-11-26 11:57", "11:57"},
		{"tom", "2026-11-26 03:57", "03:57"},
		{"nobody", "2026-11-26 11:57", "11:57"}, // no zone: Asia/Shanghai
		{"mars", "2026-11-26 11:57", "11:57"},   // unknown zone: Asia/Shanghai, no crash
	}
	for _, tt := range tests {
		if tt.user != "li" {
			click(t, tab, "user-"+tt.user)
			waitJS(t, tab, tt.user+" selected", `document.querySelector('[data-testid="user-`+tt.user+`"]').classList.contains("selected")`)
		}
		waitJS(t, tab, tt.user+"'s clock", clockJS+` === "`+tt.clock+`"`)
		say(t, tab, "hi "+tt.user)
		got, err := chromedp.Run(tab, chromedp.Evaluate[string](lastTimeJS))
		require.NoError(t, err)
		require.Equal(t, tt.time, got, "time under %s's message", tt.user)
		box, err := chromedp.Run(tab, chromedp.Evaluate[string](inputJS))
		require.NoError(t, err)
		require.Empty(t, box, "a sent text leaves the box")
	}
	screenshot(t, tab, "times-in-user-zone")

	// The bot fails: the toast says so and the text is still in the box.
	typeAndSend(t, tab, "fail")
	waitJS(t, tab, "error toast", `document.querySelector('[data-testid="toast"]').classList.contains("error")`)
	box, err := chromedp.Run(tab, chromedp.Evaluate[string](inputJS))
	require.NoError(t, err)
	require.Equal(t, "fail", box, "a refused text is not lost")
	screenshot(t, tab, "refused-text-kept")
}
