package web_test

import (
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/internal/testkit"
)

// Issue 10: the purchase story in the playground, filed by conversation
// in Chinese. 韩梅梅 types /采购 and answers the questions; a quantity
// that is not a number is refused with the reason and asked again; her
// department head 李雷 approves from his tab; the ERP step (a demo address
// that does not answer) is recorded and the request completes; 韩梅梅
// sees the final state live.
func TestBrowserPurchaseStory(t *testing.T) {
	// Not parallel: the package's browser stories already run Chromiums
	// side by side, and on a busy 2-core machine more of them push the
	// live waits past their timeout.
	browser := newBrowser(t)
	s := setupStory(t)
	s.drainLoop(t)

	emp := openTab(t, browser, s.srv.URL+"/?as="+employee)
	say(t, emp, "/采购")
	waitJS(t, emp, "first question", lastBotTextJS+`.includes("物品")`)
	say(t, emp, "人体工学椅")
	waitJS(t, emp, "quantity question", lastBotTextJS+`.includes("数量")`)
	say(t, emp, "很多")
	waitJS(t, emp, "refused quantity", lastBotTextJS+`.includes("填写有误") && `+lastBotTextJS+`.includes("数量")`)
	refusal, err := chromedp.Run(emp, chromedp.Evaluate[string](lastBotTextJS))
	require.NoError(t, err)
	require.NotContains(t, refusal, "not a valid", "the refusal is in Chinese")
	screenshot(t, emp, "purchase-wrong-answer-zh")
	say(t, emp, "3")
	waitJS(t, emp, "amount question", lastBotTextJS+`.includes("总金额")`)
	say(t, emp, "4500")
	waitJS(t, emp, "vendor question", lastBotTextJS+`.includes("供应商")`)
	say(t, emp, "宜家")
	waitJS(t, emp, "summary card", `!!document.querySelector('[data-testid="card-button-submit"]')`)
	summary, err := chromedp.Run(emp, chromedp.Evaluate[string](lastBotCardJS+`.textContent`))
	require.NoError(t, err)
	for _, want := range []string{"采购", "人体工学椅", "3", "4,500", "宜家"} {
		require.Contains(t, summary, want, "the summary card shows %q", want)
	}
	screenshot(t, emp, "purchase-summary-zh")
	click(t, emp, "card-button-submit")
	waitJS(t, emp, "filed toast", `document.querySelector('[data-testid="toast"]').textContent.includes("PO-")`)

	// A second tab, first as 张伟 (a colleague: no task for him), becomes
	// 李雷, head of 研发部, through the picker; he gets the task card and
	// approves.
	mgr := openTab(t, browser, s.srv.URL+"/?as=zhangwei")
	tasks, err := chromedp.Run(mgr, chromedp.Evaluate[int](`document.querySelectorAll('[data-testid="card-button-approve"]').length`))
	require.NoError(t, err)
	require.Zero(t, tasks, "张伟 has nothing to approve")
	click(t, mgr, "user-"+manager)
	waitJS(t, mgr, "task card", `!!`+cardWithJS("人体工学椅")+` && !!`+cardWithJS("人体工学椅")+`.querySelector('[data-testid="card-button-approve"]')`)
	task, err := chromedp.Run(mgr, chromedp.Evaluate[string](cardWithJS("人体工学椅")+`.textContent`))
	require.NoError(t, err)
	for _, want := range []string{"韩梅梅", "部门负责人审批", "4,500"} {
		require.Contains(t, task, want, "李雷's task card shows %q", want)
	}
	screenshot(t, mgr, "purchase-head-task-zh")
	typeIn(t, mgr, "comment", "同意采购")
	clickIn(t, mgr, "approve")
	waitJS(t, mgr, "card decided", `!document.querySelector('[data-testid="card-button-approve"]')`)
	screenshot(t, mgr, "purchase-head-approved-zh")

	// 韩梅梅 sees it approved, in Chinese.
	waitJS(t, emp, "approved card", lastBotCardJS+`.dataset.color === "green"`)
	final, err := chromedp.Run(emp, chromedp.Evaluate[string](lastBotCardJS+`.textContent`))
	require.NoError(t, err)
	require.Contains(t, final, "PO-")
	require.Contains(t, final, "已通过")
	require.Contains(t, final, "部门负责人审批 — 李雷", "the route names who approved")
	require.Contains(t, final, "李雷 同意：同意采购", "the latest events carry his comment")
	// The demo ERP address does not answer: the step was skipped, not done.
	require.NotContains(t, final, "✓ 创建 ERP 采购单", "a failed call must not read as done")
	require.Contains(t, final, "⚠ 创建 ERP 采购单（调用失败，已跳过）")
	require.Contains(t, final, "「创建 ERP 采购单」调用失败，按流程设置已跳过")
	screenshot(t, emp, "purchase-applicant-final-zh")
}

// Issue 10: the onboarding story in the playground, filed by the form
// card in English. The HR officer (here reading English) opens the form
// with the manager given by name (manager=李雷), which the picker shows
// chosen; a start date in the past is refused under its field in English,
// the typed values kept; the fixed form files and the request card shows
// the manager's name, not an id. A name nobody has is refused.
func TestBrowserOnboardingStory(t *testing.T) {
	// Not parallel, as the purchase story.
	browser := newBrowser(t)
	s := setupStory(t)
	users, depts := testkit.ExampleOrg(t)
	for _, u := range users {
		if u.ID == hr {
			u.Locale = "en"
		}
	}
	require.NoError(t, s.db.ReplaceDirectory(s.ctx, users, depts))
	s.drainLoop(t)

	hrTab := openTab(t, browser, s.srv.URL+"/?as="+hr)
	// A name nobody has is refused under the picker, in English.
	say(t, hrTab, "/onboarding form manager=Nobody")
	waitJS(t, hrTab, "error under the manager", `!!`+lastBotCardJS+`.querySelector('[data-testid="card-input-error-manager"]')`)
	who, err := chromedp.Run(hrTab, chromedp.Evaluate[string](lastBotCardJS+`.querySelector('[data-testid="card-input-error-manager"]').textContent`))
	require.NoError(t, err)
	require.Contains(t, who, "Nobody", "the refusal names what was typed")
	require.NotContains(t, who, "通讯录", "not in Chinese")
	screenshot(t, hrTab, "onboarding-unknown-manager-en")
	say(t, hrTab, "/cancel")

	// The manager is given by name, typed inline; the picker shows him chosen.
	say(t, hrTab, "/onboarding form manager=李雷")
	waitJS(t, hrTab, "form card", `!!`+lastBotCardJS+`.querySelector('[data-testid="card-button-form_submit"]')`)
	title, err := chromedp.Run(hrTab, chromedp.Evaluate[string](lastBotCardJS+`.querySelector('[data-testid="card-title"]').textContent`))
	require.NoError(t, err)
	require.Contains(t, title, "Onboarding")
	picked, err := chromedp.Run(hrTab, chromedp.Evaluate[string](lastBotCardJS+`.querySelector('[data-testid="card-input-manager"]').selectedOptions[0].textContent`))
	require.NoError(t, err)
	require.Equal(t, "李雷", picked, "the name typed inline is the person chosen in the picker")
	setInput(t, hrTab, "card-input-new_hire", "Lucy Liu")
	setInput(t, hrTab, "card-input-start_date", "2026-11-20") // a week before the demo clock's today
	setInput(t, hrTab, "card-input-department", "eng")
	screenshot(t, hrTab, "onboarding-form-en")
	clickLast(t, hrTab, "card-button-form_submit")
	waitJS(t, hrTab, "error under the date", `!!`+lastBotCardJS+`.querySelector('[data-testid="card-input-error-start_date"]')`)
	dateErr, err := chromedp.Run(hrTab, chromedp.Evaluate[string](lastBotCardJS+`.querySelector('[data-testid="card-input-error-start_date"]').textContent`))
	require.NoError(t, err)
	require.Contains(t, dateErr, "past", "the refusal says the date is past, in English")
	require.NotContains(t, dateErr, "已过去", "not in Chinese")
	kept, err := chromedp.Run(hrTab, chromedp.Evaluate[string](lastBotCardJS+`.querySelector('[data-testid="card-input-new_hire"]').value`))
	require.NoError(t, err)
	require.Equal(t, "Lucy Liu", kept, "the typed name is kept")
	screenshot(t, hrTab, "onboarding-form-en-past-date")

	setInput(t, hrTab, "card-input-start_date", "2026-12-07")
	clickLast(t, hrTab, "card-button-form_submit")
	waitJS(t, hrTab, "filed toast", `document.querySelector('[data-testid="toast"]').textContent.includes("ONB-")`)
	waitJS(t, hrTab, "request card", `!!`+cardWithJS("Lucy Liu"))
	card, err := chromedp.Run(hrTab, chromedp.Evaluate[string](cardWithJS("Lucy Liu")+`.textContent`))
	require.NoError(t, err)
	for _, want := range []string{"Onboarding", "Manager", "李雷", "2026-12-07", "Engineering"} {
		require.Contains(t, card, want, "the request card shows %q", want)
	}
	require.NotContains(t, card, manager, "the manager shows by name, not by id")
	screenshot(t, hrTab, "onboarding-filed-en")

	// IT (吴强) and office (周芳) both sign, in one tab switched through the
	// picker; each reads the task in Chinese with the manager by name.
	ops := openTab(t, browser, s.srv.URL+"/?as=wuqiang")
	for _, who := range []string{"wuqiang", "zhoufang"} {
		click(t, ops, "user-"+who)
		waitJS(t, ops, who+"'s task card", `!!`+cardWithJS("Lucy Liu")+` && !!`+cardWithJS("Lucy Liu")+`.querySelector('[data-testid="card-button-approve"]')`)
		task, err := chromedp.Run(ops, chromedp.Evaluate[string](cardWithJS("Lucy Liu")+`.textContent`))
		require.NoError(t, err)
		for _, want := range []string{"入职", "直属上级", "李雷", "研发部"} {
			require.Contains(t, task, want, "%s's task card shows %q", who, want)
		}
		screenshot(t, ops, "onboarding-task-"+who+"-zh")
		clickIn(t, ops, "approve")
		waitJS(t, ops, who+"'s card decided", `!document.querySelector('[data-testid="card-button-approve"]')`)
	}

	// 李雷, the manager named in the form, is told in Chinese.
	mgr := openTab(t, browser, s.srv.URL+"/?as="+manager)
	waitJS(t, mgr, "the notice", `[...document.querySelectorAll('.msg.bot')].some(m => m.textContent.includes("新同事即将入职"))`)
	screenshot(t, mgr, "onboarding-manager-told-zh")

	// The applicant sees it done, in English.
	waitJS(t, hrTab, "approved card", lastBotCardJS+`.dataset.color === "green"`)
	final, err := chromedp.Run(hrTab, chromedp.Evaluate[string](lastBotCardJS+`.textContent`))
	require.NoError(t, err)
	require.Contains(t, final, "ONB-")
	require.Contains(t, final, "Approved")
	screenshot(t, hrTab, "onboarding-applicant-final-en")
}
