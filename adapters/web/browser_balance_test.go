package web_test

import (
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/flows"
)

// 韩梅梅 sees her annual leave balance while filing, 李雷 approves, she
// cancels the approved leave with the card's button, 李雷 confirms, and the
// days are back.
func TestBrowserLeaveBalanceAndCancel(t *testing.T) {
	t.Parallel()
	browser := newBrowser(t)
	s := setupStory(t)
	require.NoError(t, s.engine.SetBalances(s.ctx, boss, []flows.BalanceUpdate{{User: employee, Type: "annual", Year: 2026, Total: 10}}))
	s.drainLoop(t)

	emp := openTab(t, browser, s.srv.URL+"/?as="+employee)
	mgr := openTab(t, browser, s.srv.URL+"/?as="+manager)

	before, err := chromedp.Run(emp, chromedp.Evaluate[int](botCountJS))
	require.NoError(t, err)
	click(t, emp, "chip-leave")
	waitJS(t, emp, "first question", botCountJS+` > `+itoa(before))
	say(t, emp, "1")
	waitJS(t, emp, "balance in the next question", `[...document.querySelectorAll('.msg.bot')].pop().textContent.includes("年假剩余 10 天")`)
	say(t, emp, "2026-12-01~2026-12-03")
	say(t, emp, "跳过")
	waitJS(t, emp, "summary card", `!!document.querySelector('[data-testid="card-button-submit"]')`)
	waitJS(t, emp, "balance on the summary", lastBotCardJS+`.textContent.includes("年假剩余 10 天（本次 3 天）")`)
	screenshot(t, emp, "balance-summary")
	click(t, emp, "card-button-submit")
	waitJS(t, emp, "summary replaced", `!document.querySelector('[data-testid="card-button-submit"]')`)

	waitJS(t, mgr, "task card", `!!document.querySelector('[data-testid="card-button-approve"]')`)
	click(t, mgr, "card-button-approve")
	waitJS(t, mgr, "card decided", `!document.querySelector('[data-testid="card-button-approve"]')`)

	waitJS(t, emp, "approved card with Cancel", lastBotCardJS+`.dataset.color === "green" && !!`+lastBotCardJS+`.querySelector('[data-testid="card-button-cancel_request"]')`)
	bs, err := s.db.Balances(s.ctx, flows.BalanceFilter{User: employee})
	require.NoError(t, err)
	require.Equal(t, 3.0, bs[0].Used, "approval took 3 working days")
	screenshot(t, emp, "balance-approved-cancel-button")
	evalJS(t, emp, lastBotCardJS+`.querySelector('[data-testid="card-button-cancel_request"]').click()`)
	waitJS(t, emp, "cancel filed", `[...document.querySelectorAll('[data-testid="card"]')].some(c => c.textContent.includes("已提交撤销"))`)

	waitJS(t, mgr, "cancel task card", `!!document.querySelector('[data-testid="card-button-approve"]')`)
	screenshot(t, mgr, "balance-manager-cancel-task")
	click(t, mgr, "card-button-approve")
	waitJS(t, mgr, "cancel decided", `!document.querySelector('[data-testid="card-button-approve"]')`)

	say(t, emp, "/mine")
	ins, err := s.db.Instances(s.ctx, flows.InstanceFilter{Applicant: employee, FlowID: "leave"})
	require.NoError(t, err)
	require.Len(t, ins, 1)
	require.Equal(t, flows.StatusCancelled, ins[0].Status)
	say(t, emp, "/status "+ins[0].Number)
	waitJS(t, emp, "cancelled status", lastBotCardJS+`.textContent.includes("已撤销")`)
	screenshot(t, emp, "balance-cancelled")
	bs, err = s.db.Balances(s.ctx, flows.BalanceFilter{User: employee})
	require.NoError(t, err)
	require.Equal(t, 0.0, bs[0].Used, "cancelled: the days are back")
}
