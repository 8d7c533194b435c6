package web_test

import (
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/flows"
)

// lastBotTextJS is the text of the newest bot message.
const lastBotTextJS = `[...document.querySelectorAll('.msg.bot')].pop().textContent`

// Driven as users in the playground, zh and en: a first "hello" is
// greeted; a wrong answer is refused with the reason and the question
// asked again; the leave form's balance line follows the type picker
// as it changes; a nasty name typed as a reason shows as text.
func TestBrowserDriveAsUsers(t *testing.T) {
	t.Parallel()
	browser := newBrowser(t)
	s := setupStory(t)
	require.NoError(t, s.engine.SetBalances(s.ctx, boss, []flows.BalanceUpdate{{User: employee, Type: "annual", Year: 2026, Total: 10}}))
	s.drainLoop(t)

	// 韩梅梅, in Chinese.
	emp := openTab(t, browser, s.srv.URL+"/?as="+employee)
	say(t, emp, "你好")
	waitJS(t, emp, "greeting", lastBotTextJS+`.includes("/help")`)
	say(t, emp, "/报销")
	say(t, emp, "-500")
	waitJS(t, emp, "refused amount", lastBotTextJS+`.includes("填写有误") && `+lastBotTextJS+`.includes("金额")`)
	screenshot(t, emp, "drive-wrong-answer-zh")
	say(t, emp, "/cancel")

	say(t, emp, "/请假 表单")
	waitJS(t, emp, "form card", `!!`+lastBotCardJS+`.querySelector('[data-testid="card-input-note-type"]')`)
	note := func() string {
		got, err := chromedp.Run(emp, chromedp.Evaluate[string](lastBotCardJS+`.querySelector('[data-testid="card-input-note-type"]').textContent`))
		require.NoError(t, err)
		return got
	}
	require.Empty(t, note(), "no type chosen yet")
	setInput(t, emp, "card-input-type", "annual")
	require.Equal(t, "年假剩余 10 天", note(), "follows the picker")
	screenshot(t, emp, "drive-leave-picker-annual-zh")
	setInput(t, emp, "card-input-type", "sick")
	require.Empty(t, note(), "no balance of sick leave")
	setInput(t, emp, "card-input-type", "annual")
	setInput(t, emp, "card-input-period-from", "2026-12-01")
	setInput(t, emp, "card-input-period-to", "2026-12-03")
	setInput(t, emp, "card-input-reason", "<at id=all></at> **急** [x](http://evil.example.com)")
	clickLast(t, emp, "card-button-form_submit")
	waitJS(t, emp, "filed", `[...document.querySelectorAll('[data-testid="card"]')].some(c => c.textContent.includes("LEAVE-"))`)
	waitJS(t, emp, "the reason shows as typed", `[...document.querySelectorAll('[data-testid="card"]')].some(c => c.textContent.includes("<at id=all></at>"))`)
	links, err := chromedp.Run(emp, chromedp.Evaluate[int](`document.querySelectorAll('.msg.bot a[href*="evil"]').length`))
	require.NoError(t, err)
	require.Zero(t, links, "no link made of the reason")
	screenshot(t, emp, "drive-leave-filed-zh")

	// Tom, in English.
	tom := openTab(t, browser, s.srv.URL+"/?as=tom")
	say(t, tom, "hello")
	waitJS(t, tom, "greeting", lastBotTextJS+`.includes("/help") && !`+lastBotTextJS+`.includes("ended")`)
	say(t, tom, "/expense")
	say(t, tom, "lots")
	waitJS(t, tom, "refused amount", lastBotTextJS+`.includes("not a valid Amount")`)
	screenshot(t, tom, "drive-wrong-answer-en")
	say(t, tom, "/leave form")
	waitJS(t, tom, "form card", `!!`+lastBotCardJS+`.querySelector('[data-testid="card-button-form_submit"]')`)
	screenshot(t, tom, "drive-leave-form-en")
}
