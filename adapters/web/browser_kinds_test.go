package web_test

import (
	"context"
	"flag"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/adapters/adaptertest"
	"github.com/flowbot/flowbot/adapters/web"
	"github.com/flowbot/flowbot/bots"
)

// TestBrowserInputKinds draws a form card with every input kind in both
// languages, fills the native controls and checks that the click carries
// each value in the format bots.InputKind names.
func TestBrowserInputKinds(t *testing.T) {
	t.Parallel()
	browser := newBrowser(t)
	bot := &scriptedBot{}
	a := web.New(web.Config{
		Handler: bot, Demo: true, Logger: slog.New(slog.DiscardHandler),
		Users: func(ctx context.Context) ([]web.User, error) {
			return []web.User{
				{ID: "emp", Name: "张三", Department: "研发部", Locale: "zh-CN"},
				{ID: "mgr", Name: "王经理", Department: "研发部", Locale: "zh-CN"},
				{ID: "alice", Name: "Alice", Department: "Sales", Locale: "en"},
			}, nil
		},
	})
	bot.adapter = a
	srv := httptest.NewServer(a.Handler())
	t.Cleanup(srv.Close)
	card := adaptertest.InputKindsCard()
	card.Title = "请假申请 / Leave request"
	for _, user := range []string{"emp", "alice"} {
		_, err := a.Send(context.Background(), bots.Recipient{Platform: "web", UserID: user}, bots.Message{Card: &card}, "kinds-"+user)
		require.NoError(t, err)
	}
	for _, tc := range []struct{ user, shot string }{{"emp", "playground-input-kinds-zh"}, {"alice", "playground-input-kinds-en"}} {
		tab := openTab(t, browser, srv.URL+"/?as="+tc.user)
		waitJS(t, tab, "form card", lastCardJS("Leave request")+` !== undefined`)
		waitJS(t, tab, "native controls", `document.querySelector('select#card-input-k_select, [data-testid="card-input-k_select"]').tagName === "SELECT"
			&& document.querySelector('[data-testid="card-input-k_date"]').type === "date"
			&& document.querySelector('[data-testid="card-input-k_area"]').tagName === "TEXTAREA"
			&& document.querySelector('[data-testid="card-input-k_multi"]').multiple
			&& document.querySelector('[data-testid="card-input-k_bool"]').type === "checkbox"
			&& document.querySelector('[data-testid="card-input-k_file"]').type === "file"
			&& document.querySelector('[data-testid="card-input-k_num"]').type === "number"
			&& document.querySelector('[data-testid="card-input-k_user"] option[value="mgr"]') !== null
			&& document.querySelector('[data-testid="card-input-k_select"]').value === "sick"`)
		screenshot(t, tab, tc.shot)
		checkGolden(t, tab, tc.shot)
		evalJS(t, tab, `(() => {
			const q = (id) => document.querySelector('[data-testid="card-input-' + id + '"]');
			q("k_text").value = "家里有事 family";
			q("k_num").value = "2.5";
			q("k_money").value = "1280.50";
			q("k_range-from").value = "2026-12-01";
			q("k_range-to").value = "2026-12-03";
			q("k_select").value = "annual";
			for (const o of q("k_multi").options) o.selected = o.value === "annual" || o.value === "sick";
			q("k_user").value = "mgr";
			q("k_bool").checked = true;
		})()`)
		require.NoError(t, chromedp.Do(tab, chromedp.Click(chromedp.CSS(`[data-testid="card-button-submit"]`))))
		waitJS(t, tab, "click answered", `!document.querySelector('[data-testid="toast"]').hidden`)
		bot.mu.Lock()
		last := bot.clicks[len(bot.clicks)-1]
		bot.mu.Unlock()
		want := adaptertest.InputKindValues()
		delete(want, "k_file") // a browser cannot pick a file from a script
		want["k_user"] = "mgr"
		require.Equal(t, "submit", last.Name)
		require.Equal(t, want, last.Inputs)
	}
}

var update = flag.Bool("update", false, "rewrite testdata/golden/*.json")

// kindsDOMJS describes every control of the last form card as the
// browser drew it: tag, type, name, required, value, options and labels,
// the shape a reviewer checks in testdata/golden.
const kindsDOMJS = `JSON.stringify([...document.querySelectorAll('[data-testid="card"]')].pop().querySelectorAll('[data-testid^="card-input-"], [data-testid^="card-button-"], label').length === 0 ? [] :
	[...[...document.querySelectorAll('[data-testid="card"]')].pop().querySelectorAll('[data-testid^="card-input-"], [data-testid^="card-button-"], label')].map(e => ({
		testid: e.dataset.testid || "", tag: e.tagName.toLowerCase(), type: e.type || "", name: e.name || "",
		required: !!e.required, multiple: !!e.multiple, value: e.tagName === "LABEL" ? "" : (e.value || ""),
		text: e.tagName === "LABEL" || e.tagName === "BUTTON" ? e.textContent.trim() : "",
		options: e.tagName === "SELECT" ? [...e.options].map(o => o.value + "=" + o.textContent.trim()) : undefined,
	})), null, 2)`

// checkGolden compares the drawn form card with testdata/golden/<name>.json
// (rewrite with -update).
func checkGolden(t *testing.T, tab context.Context, name string) {
	t.Helper()
	got, err := chromedp.Run(tab, chromedp.Evaluate[string](kindsDOMJS))
	require.NoError(t, err)
	got += "\n"
	path := filepath.Join("testdata", "golden", name+".json")
	if *update {
		require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
		require.NoError(t, os.WriteFile(path, []byte(got), 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "run go test -run TestBrowserInputKinds -update")
	require.Equal(t, string(want), got, "the form card differs from %s", path)
}
