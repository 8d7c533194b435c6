package web_test

import (
	"context"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"
)

const botCountJS = `document.querySelectorAll('.msg.bot').length`

// say types text in the tab and waits for the bot's answer.
func say(t *testing.T, tab context.Context, text string) {
	t.Helper()
	before, err := chromedp.Run(tab, chromedp.Evaluate[int](botCountJS))
	require.NoError(t, err)
	typeAndSend(t, tab, text)
	waitJS(t, tab, "answer to "+text, botCountJS+` > `+itoa(before))
}

func click(t *testing.T, tab context.Context, testid string) {
	t.Helper()
	require.NoError(t, chromedp.Do(tab, chromedp.Click(chromedp.CSS(`[data-testid="`+testid+`"]`))), "click %s", testid)
}

// lastBotCardJS is the newest card in the chat.
const lastBotCardJS = `[...document.querySelectorAll('[data-testid="card"]')].pop()`

func TestBrowserLeaveStory(t *testing.T) {
	t.Parallel()
	browser := newBrowser(t)
	s := setupStory(t)
	s.drainLoop(t)

	emp := openTab(t, browser, s.srv.URL+"/?as="+employee)
	mgr := openTab(t, browser, s.srv.URL+"/?as="+manager)

	// 韩梅梅 files a 5-day leave by talking to the bot.
	before, err := chromedp.Run(emp, chromedp.Evaluate[int](botCountJS))
	require.NoError(t, err)
	click(t, emp, "chip-leave")
	waitJS(t, emp, "first question", botCountJS+` > `+itoa(before))
	say(t, emp, "1")
	say(t, emp, "2026-12-01~2026-12-05")
	say(t, emp, "跳过")
	waitJS(t, emp, "summary card", `!!document.querySelector('[data-testid="card-button-submit"]')`)
	click(t, emp, "card-button-submit")
	waitJS(t, emp, "filed toast", `document.querySelector('[data-testid="toast"]').textContent.includes("LEAVE-")`)
	waitJS(t, emp, "summary replaced", `!document.querySelector('[data-testid="card-button-submit"]')`)

	// 李雷 sees the card arrive live and approves with a comment.
	waitJS(t, mgr, "task card", `!!document.querySelector('[data-testid="card-button-approve"]')`)
	screenshot(t, mgr, "story-manager-task")
	require.NoError(t, chromedp.Do(mgr, chromedp.SendKeys(chromedp.CSS(`[data-testid="card-input-comment"]`), "同意，好好休息")))
	click(t, mgr, "card-button-approve")
	waitJS(t, mgr, "approved toast", `!document.querySelector('[data-testid="toast"]').hidden`)
	waitJS(t, mgr, "card decided", `!document.querySelector('[data-testid="card-button-approve"]')`)

	// The same tab becomes 刘人事 (HR) through the picker and approves too.
	click(t, mgr, "user-"+hr)
	waitJS(t, mgr, "hr task card", `!!document.querySelector('[data-testid="card-button-approve"]')`)
	click(t, mgr, "card-button-approve")
	waitJS(t, mgr, "hr card decided", `!document.querySelector('[data-testid="card-button-approve"]')`)

	// The employee is told live.
	waitJS(t, emp, "approved card", lastBotCardJS+`.dataset.color === "green"`)
	screenshot(t, emp, "story-employee-approved")
	screenshot(t, mgr, "story-hr-approved")

	// A second request, typed inline, is rejected with a reason.
	say(t, emp, "/leave type=sick period=2026-12-10~2026-12-11 reason=看病")
	waitJS(t, emp, "summary card", `!!document.querySelector('[data-testid="card-button-submit"]')`)
	click(t, emp, "card-button-submit")
	waitJS(t, emp, "summary replaced", `!document.querySelector('[data-testid="card-button-submit"]')`)
	click(t, mgr, "user-"+manager)
	waitJS(t, mgr, "second task card", `!!document.querySelector('[data-testid="card-button-reject"]')`)

	// 李雷 does not answer; a day passes on the demo clock (Thursday 10:00
	// to Friday 10:00 in Shanghai): the reminder arrives live in his tab,
	// and every time on the page is in his time zone (the browser runs in
	// UTC, where it is 02:00).
	reminders := `[...document.querySelectorAll('[data-testid="card"]')].filter(c => c.textContent.includes("⏰ 提醒"))`
	n, err := chromedp.Run(mgr, chromedp.Evaluate[int](reminders+`.length`))
	require.NoError(t, err)
	require.Zero(t, n, "no reminder before the clock moves")
	click(t, mgr, "advance-day")
	// Every copy of his card shows the reminder; the newest keeps the buttons.
	waitJS(t, mgr, "reminder card", reminders+`.length >= 1 && !!`+reminders+`.pop().querySelector('[data-testid="card-button-reject"]')`)
	waitJS(t, mgr, "clock in Shanghai time", `document.querySelector('[data-testid="clock"]').textContent === "2026-11-27 10:00"`)
	at, err := chromedp.Run(mgr, chromedp.Evaluate[string](reminders+`.pop().closest('.msg').querySelector('.time').textContent`))
	require.NoError(t, err)
	require.Equal(t, "10:00", at, "the reminder's time is 李雷's (Shanghai), 24-hour")
	screenshot(t, mgr, "story-manager-reminder")
	require.NoError(t, chromedp.Do(mgr, chromedp.SendKeys(chromedp.CSS(`[data-testid="card-input-comment"]`), "项目上线，人手不够")))
	click(t, mgr, "card-button-reject")
	waitJS(t, mgr, "rejected card", `!document.querySelector('[data-testid="card-button-reject"]')`)
	waitJS(t, emp, "rejection with reason", lastBotCardJS+`.dataset.color === "red" && `+lastBotCardJS+`.textContent.includes("项目上线，人手不够")`)
	screenshot(t, emp, "story-employee-rejected")
	screenshot(t, mgr, "story-manager-rejected")
}
