package web_test

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/bots"
)

// Defect 7: the composer states the bot's limit in characters before
// sending; a longer text is not sent and stays in the box.
func TestBrowserComposerLimit(t *testing.T) {
	t.Parallel()
	browser := newBrowser(t)
	s := setupStory(t)
	tab := openTab(t, browser, s.srv.URL+"/?as="+employee)
	waitJS(t, tab, "counter", `document.querySelector('[data-testid="counter"]').textContent === "0/`+itoa(bots.MaxTextChars)+` 字"`)

	long := strings.Repeat("长", bots.MaxTextChars+1)
	mine := `document.querySelectorAll('.msg.me').length`
	before, err := chromedp.Run(tab, chromedp.Evaluate[int](mine))
	require.NoError(t, err)
	setInput := func(v string) {
		evalJS(t, tab, `(() => { const i = document.querySelector('[data-testid="input"]'); i.value = "`+v+`"; i.dispatchEvent(new Event("input")); })()`)
	}
	setInput(long)
	waitJS(t, tab, "counter over", `document.querySelector('[data-testid="counter"]').classList.contains("over")`)
	click(t, tab, "send")
	waitJS(t, tab, "too-long toast", `document.querySelector('[data-testid="toast"]').textContent.includes("上限 `+itoa(bots.MaxTextChars)+` 个字")`)
	screenshot(t, tab, "composer-too-long-zh")
	got, err := chromedp.Run(tab, chromedp.Evaluate[string](`document.querySelector('[data-testid="input"]').value`))
	require.NoError(t, err)
	require.Equal(t, long, got, "the text stays in the box")
	after, err := chromedp.Run(tab, chromedp.Evaluate[int](mine))
	require.NoError(t, err)
	require.Equal(t, before, after, "nothing was sent")

	// Shortened, it goes and the box is cleared.
	setInput("/help")
	click(t, tab, "send")
	waitJS(t, tab, "box cleared", `document.querySelector('[data-testid="input"]').value === ""`)
	waitJS(t, tab, "sent", mine+` > `+itoa(before))
}
