package web_test

import (
	"context"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/flows"
)

const finance = "sunli" // 孙丽, finance and CFO in examples/org.yaml

// cardWithJS is the newest card whose text contains s.
func cardWithJS(s string) string {
	return `[...document.querySelectorAll('[data-testid="card"]')].filter(c => c.textContent.includes(` + strconv.Quote(s) + `)).pop()`
}

// clickIn clicks the button of action in the newest card that has one.
func clickIn(t *testing.T, tab context.Context, action string) {
	t.Helper()
	sel := `[data-testid="card-button-` + action + `"]`
	evalJS(t, tab, `[...document.querySelectorAll('[data-testid="card"]')].filter(c => c.querySelector('`+sel+`')).pop().querySelector('`+sel+`').click()`)
}

// typeIn types into input name of the newest card that has it.
func typeIn(t *testing.T, tab context.Context, name, text string) {
	t.Helper()
	sel := `[data-testid="card-input-` + name + `"]`
	evalJS(t, tab, `(() => { const f = [...document.querySelectorAll('`+sel+`')].pop(); f.value = `+strconv.Quote(text)+`; f.dispatchEvent(new Event('input', {bubbles: true})); })()`)
}

// Issue 10, defects 14 and 15 and the comment reply, as users see them in
// the playground: finance sends Tom's claim back to his manager, who gets
// it again with the reason; Tom is told in English; Tom replies to his
// manager's comment; 韩梅梅 withdraws a leave after confirming.
func TestBrowserSendBackStory(t *testing.T) {
	t.Parallel()
	browser := newBrowser(t)
	s := setupStory(t)
	s.drainLoop(t)

	out, err := s.engine.Submit(s.ctx, flows.SubmitRequest{Actor: "tom", FlowID: "expense", Values: map[string]any{"amount": "6000", "category": "travel", "description": "Client visit, Shanghai"}})
	require.NoError(t, err)
	var task int64
	for _, x := range out.Tasks {
		if x.Assignee == manager {
			task = x.ID
		}
	}
	_, err = s.engine.Decide(s.ctx, flows.DecideRequest{Actor: manager, TaskID: task, Approve: true})
	require.NoError(t, err)

	tom := openTab(t, browser, s.srv.URL+"/?as=tom")
	fin := openTab(t, browser, s.srv.URL+"/?as="+finance)
	mgr := openTab(t, browser, s.srv.URL+"/?as="+manager)

	// 孙丽 (finance) chooses among reject, return and send back.
	waitJS(t, fin, "finance task card", `!!document.querySelector('[data-testid="card-button-send_back"]')`)
	for _, a := range []string{"approve", "reject", "send_back"} {
		waitJS(t, fin, a+" button", `!!document.querySelector('[data-testid="card-button-`+a+`"]')`)
	}
	waitJS(t, fin, "step select", `document.querySelector('[data-testid="card-input-to_step"]').tagName === "SELECT"`)
	screenshot(t, fin, "sendback-finance-card-zh")
	typeIn(t, fin, "comment", "请上级确认客户拜访的必要性")
	typeIn(t, fin, "to_step", "manager")
	clickIn(t, fin, "send_back")
	waitJS(t, fin, "sent back toast", `document.querySelector('[data-testid="toast"]').textContent.includes("已退回到「直属上级审批」")`)
	waitJS(t, fin, "card decided", `!document.querySelector('[data-testid="card-button-send_back"]')`)
	screenshot(t, fin, "sendback-finance-done-zh")

	// 李雷 gets it again, with the reason.
	waitJS(t, mgr, "task card again", `!!`+cardWithJS("退回到本步骤"))
	screenshot(t, mgr, "sendback-manager-again-zh")

	// Tom reads it in English, and nothing says "rejected". The notice
	// keeps its first line through every update of the request's cards
	// (the same send-back updates them too, in either order).
	waitJS(t, tom, "sent back notice", `!!`+cardWithJS("was sent back by"))
	screenshot(t, tom, "sendback-applicant-en")

	// 李雷 comments; Tom replies from the comment card.
	typeIn(t, mgr, "comment", "客户名单发我一下")
	clickIn(t, mgr, "comment")
	waitJS(t, tom, "comment card", `!!document.querySelector('[data-testid="card-button-reply"]')`)
	typeIn(t, tom, "comment", "Sent the list by mail")
	clickIn(t, tom, "reply")
	waitJS(t, tom, "reply toast", `document.querySelector('[data-testid="toast"]').textContent.includes("Reply sent to 李雷")`)
	screenshot(t, tom, "reply-applicant-en")
	waitJS(t, mgr, "reply reaches 李雷", `!!`+cardWithJS("Tom Baker 回复了你在"))
	screenshot(t, mgr, "reply-manager-zh")

	// Tom withdraws: asked first (English), then withdrawn.
	clickIn(t, tom, "withdraw")
	waitJS(t, tom, "confirm card", `!!`+cardWithJS("Withdraw Expense claim"))
	screenshot(t, tom, "withdraw-confirm-en")
	clickIn(t, tom, "withdraw")
	waitJS(t, tom, "withdrawn toast", `document.querySelector('[data-testid="toast"]').textContent.includes("Withdrawn")`)
	// The send-back notice, updated by the withdrawal, still says what it
	// was sent for, above the request as it is now.
	waitJS(t, tom, "notice updated, headline kept", `(c => !!c && c.textContent.includes("withdrew the request"))(`+cardWithJS("was sent back by")+`)`)
	evalJS(t, tom, cardWithJS("was sent back by")+`.scrollIntoView()`)
	screenshot(t, tom, "sendback-notice-updated-en")
	screenshot(t, tom, "withdraw-done-en")

	// 韩梅梅 in Chinese: asked first, "不撤回" keeps it.
	_, err = s.engine.Submit(s.ctx, flows.SubmitRequest{Actor: employee, FlowID: "leave", Values: map[string]any{
		"type": "annual", "period": map[string]any{"from": "2026-12-07", "to": "2026-12-08"}, "reason": "家里有事"}})
	require.NoError(t, err)
	emp := openTab(t, browser, s.srv.URL+"/?as="+employee)
	waitJS(t, emp, "request card", `!!document.querySelector('[data-testid="card-button-withdraw"]')`)
	clickIn(t, emp, "withdraw")
	waitJS(t, emp, "confirm card", `!!`+cardWithJS("确定撤回"))
	screenshot(t, emp, "withdraw-confirm-zh")
	clickIn(t, emp, "keep")
	waitJS(t, emp, "kept toast", `document.querySelector('[data-testid="toast"]').textContent.includes("未撤回")`)
	clickIn(t, emp, "withdraw")
	waitJS(t, emp, "confirm card again", `!!`+cardWithJS("确定撤回"))
	clickIn(t, emp, "withdraw")
	waitJS(t, emp, "withdrawn toast", `document.querySelector('[data-testid="toast"]').textContent.includes("已撤回")`)
	screenshot(t, emp, "withdraw-done-zh")
	// 李雷's card of that leave reads as a withdrawal by the applicant.
	waitJS(t, mgr, "withdrawn note", `!!`+cardWithJS("申请人已撤回"))
	screenshot(t, mgr, "withdraw-manager-zh")
}
