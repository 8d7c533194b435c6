package web_test

import (
	"context"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"
)

// setInput sets a card input of the newest card and fires its events, as
// a person typing or picking would.
func setInput(t *testing.T, tab context.Context, testid, value string) {
	t.Helper()
	evalJS(t, tab, `(() => {
		const card = `+lastBotCardJS+`;
		const el = card.querySelector('[data-testid="`+testid+`"]');
		el.value = `+jsString(value)+`;
		el.dispatchEvent(new Event("input", {bubbles: true}));
		el.dispatchEvent(new Event("change", {bubbles: true}));
	})()`)
}

func jsString(s string) string {
	out := []rune{'"'}
	for _, r := range s {
		if r == '"' || r == '\\' {
			out = append(out, '\\')
		}
		out = append(out, r)
	}
	return string(append(out, '"'))
}

func clickLast(t *testing.T, tab context.Context, testid string) {
	t.Helper()
	evalJS(t, tab, lastBotCardJS+`.querySelector('[data-testid="`+testid+`"]').click()`)
}

// Filing leave (zh) and expense (en) by the form card in the playground:
// native controls pre-filled from the inline arguments; a wrong amount
// comes back with the error under its field and the typed values kept;
// the fixed form files.
func TestBrowserFormCard(t *testing.T) {
	t.Parallel()
	browser := newBrowser(t)
	s := setupStory(t)
	s.drainLoop(t)

	// 韩梅梅 files leave as one form, in Chinese.
	emp := openTab(t, browser, s.srv.URL+"/?as="+employee)
	say(t, emp, "/请假 表单 type=annual")
	waitJS(t, emp, "form card", `!!`+lastBotCardJS+`.querySelector('[data-testid="card-button-form_submit"]')`)
	got, err := chromedp.Run(emp, chromedp.Evaluate[string](lastBotCardJS+`.querySelector('[data-testid="card-input-type"]').value`))
	require.NoError(t, err)
	require.Equal(t, "annual", got, "pre-filled from type=annual")
	setInput(t, emp, "card-input-period-from", "2026-12-01")
	setInput(t, emp, "card-input-period-to", "2026-12-02")
	setInput(t, emp, "card-input-reason", "家里有事")
	screenshot(t, emp, "form-leave-zh")
	clickLast(t, emp, "card-button-form_submit")
	waitJS(t, emp, "filed toast", `document.querySelector('[data-testid="toast"]').textContent.includes("LEAVE-")`)
	screenshot(t, emp, "form-leave-zh-filed")

	// Tom files an expense as one form, in English, first with a wrong amount.
	tom := openTab(t, browser, s.srv.URL+"/?as=tom")
	say(t, tom, "/expense form category=travel")
	waitJS(t, tom, "form card", `!!`+lastBotCardJS+`.querySelector('[data-testid="card-button-form_submit"]')`)
	setInput(t, tom, "card-input-amount", "-500")
	setInput(t, tom, "card-input-description", "Taxi to the airport")
	clickLast(t, tom, "card-button-form_submit")
	waitJS(t, tom, "error under the amount", `!!`+lastBotCardJS+`.querySelector('[data-testid="card-input-error-amount"]')`)
	kept, err := chromedp.Run(tom, chromedp.Evaluate[string](lastBotCardJS+`.querySelector('[data-testid="card-input-description"]').value`))
	require.NoError(t, err)
	require.Equal(t, "Taxi to the airport", kept, "the typed text is kept")
	screenshot(t, tom, "form-expense-en-error")
	setInput(t, tom, "card-input-amount", "128.50")
	clickLast(t, tom, "card-button-form_submit")
	waitJS(t, tom, "filed toast", `document.querySelector('[data-testid="toast"]').textContent.includes("EXP-")`)
	screenshot(t, tom, "form-expense-en-filed")
}
