package web_test

import (
	"context"
	"log/slog"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/adapters/web"
	"github.com/flowbot/flowbot/bots"
)

// scriptedBot is a tiny stand-in for the bot: enough of a leave request to
// drive the page (typing, a card to another user, clicks with inputs).
type scriptedBot struct {
	adapter *web.Adapter
	mu      sync.Mutex
	clicks  []bots.Action
}

func (s *scriptedBot) Handle(ctx context.Context, ev bots.Event) (bots.Reply, error) {
	if ev.Action != nil {
		s.mu.Lock()
		s.clicks = append(s.clicks, *ev.Action)
		s.mu.Unlock()
		reason := ev.Action.Inputs["reason"]
		switch ev.Action.Name {
		case "approve":
			c := leaveCard(bots.ColorGreen, "已同意 · 王经理 · "+reason)
			_, err := s.adapter.Send(ctx, bots.Recipient{Platform: "web", UserID: "emp"},
				bots.Message{Card: &bots.Card{Title: "请假已批准 LEAVE-1", Color: bots.ColorGreen, Markdown: "王经理 已同意：**" + reason + "**"}}, "done-1")
			return bots.Reply{Toast: "已同意", Card: c}, err
		case "reject":
			if reason == "" {
				c := leaveCard(bots.ColorBlue, "")
				c.Inputs[0].Error = "拒绝时必须填写理由 / A reason is required"
				return bots.Reply{Toast: "请填写拒绝理由", Card: c}, nil
			}
			return bots.Reply{Toast: "已拒绝", Card: leaveCard(bots.ColorRed, "已拒绝："+reason)}, nil
		}
		return bots.Reply{Toast: "?"}, nil
	}
	switch ev.Text {
	case "请假":
		if _, err := s.adapter.Send(ctx, bots.Recipient{Platform: "web", UserID: "mgr"},
			bots.Message{Card: leaveCard(bots.ColorBlue, "")}, "task-1"); err != nil {
			return bots.Reply{}, err
		}
		return bots.Reply{Messages: []bots.Message{{Text: "已提交请假申请 LEAVE-1，等待 王经理 审批"}}}, nil
	default:
		return bots.Reply{Messages: []bots.Message{{Card: &bots.Card{
			Title: "帮助 / Help", Color: bots.ColorBlue,
			Markdown: "**常用命令**\n- /todo 待我审批\n- /mine 我的申请\n1. 第一\n2. 第二",
		}}}}, nil
	}
}

func leaveCard(color bots.Color, note string) *bots.Card {
	c := &bots.Card{
		Title: "请假申请 LEAVE-1 · 张三", Color: color,
		Fields:   []bots.Field{{Label: "类型", Value: "年假"}, {Label: "天数", Value: "5"}, {Label: "日期", Value: "2026-12-01 ~ 2026-12-05"}},
		Markdown: "**事由**：回老家\n- 工作已交接给 李四",
		Note:     note,
	}
	if color == bots.ColorBlue {
		c.Inputs = []bots.Input{{Name: "reason", Label: "审批意见", Placeholder: "选填 / optional"}}
		c.Buttons = []bots.Button{
			{Label: "同意", Action: "approve", Value: map[string]string{"task": "1"}, Style: bots.StylePrimary},
			{Label: "拒绝", Action: "reject", Value: map[string]string{"task": "1"}, Style: bots.StyleDanger},
			{Label: "转交", Action: "transfer", Value: map[string]string{"task": "1"}},
		}
	}
	return c
}

func TestBrowserPlayground(t *testing.T) {
	t.Parallel()
	browser := newBrowser(t)
	// The users have no time zone: the page shows Asia/Shanghai time.
	shanghai, err := time.LoadLocation("Asia/Shanghai")
	require.NoError(t, err)
	now := time.Date(2026, 11, 26, 9, 30, 0, 0, shanghai)
	var clockMu sync.Mutex
	bot := &scriptedBot{}
	a := web.New(web.Config{
		Handler: bot, Demo: true, Logger: slog.New(slog.DiscardHandler),
		Users: func(ctx context.Context) ([]web.User, error) {
			return []web.User{
				{ID: "emp", Name: "张三", Department: "研发部", Roles: []string{"employee"}, Locale: "zh-CN"},
				{ID: "mgr", Name: "王经理", Department: "研发部", Roles: []string{"manager"}, Locale: "zh-CN"},
				{ID: "alice", Name: "Alice", Department: "Sales", Roles: []string{"employee"}, Locale: "en"},
			}, nil
		},
		Now: func() time.Time { clockMu.Lock(); defer clockMu.Unlock(); return now },
		Advance: func(ctx context.Context, d time.Duration) (time.Time, error) {
			clockMu.Lock()
			defer clockMu.Unlock()
			now = now.Add(d)
			return now, nil
		},
	})
	bot.adapter = a
	srv := httptest.NewServer(a.Handler())
	t.Cleanup(srv.Close)

	mgr := openTab(t, browser, srv.URL+"/?as=mgr")
	emp := openTab(t, browser, srv.URL+"/?as=emp")
	waitJS(t, emp, "demo banner", `!document.querySelector('[data-testid="demo-banner"]').hidden`)
	waitJS(t, emp, "chinese texts", `document.querySelector('[data-testid="send"]').textContent === "发送"`)
	waitJS(t, emp, "clock", `document.querySelector('[data-testid="clock"]').textContent === "2026-11-26 09:30"`)

	// The employee asks for help (a markdown card) and files a request.
	require.NoError(t, chromedp.Do(emp, chromedp.Click(chromedp.CSS(`[data-testid="chip-help"]`))))
	waitJS(t, emp, "help card with a list", `document.querySelectorAll('[data-testid="card-markdown"] li').length === 4 && document.querySelector('[data-testid="card-markdown"] strong').textContent === "常用命令"`)
	typeAndSend(t, emp, "请假")
	waitJS(t, emp, "own message on the right", `[...document.querySelectorAll('.msg.me [data-testid="message-text"]')].some(e => e.textContent === "请假")`)
	waitJS(t, emp, "bot answer", `[...document.querySelectorAll('.msg.bot [data-testid="message-text"]')].some(e => e.textContent.includes("LEAVE-1"))`)

	// The manager's card arrives live, with fields, input and styled buttons.
	waitJS(t, mgr, "approval card", lastCardJS("请假申请")+` !== undefined`)
	waitJS(t, mgr, "buttons styled", `document.querySelector('[data-testid="card-button-approve"]').classList.contains("primary") && document.querySelector('[data-testid="card-button-reject"]').classList.contains("danger")`)
	waitJS(t, mgr, "fields grid", `document.querySelectorAll('[data-testid="card-fields"] dt').length === 3`)
	screenshot(t, mgr, "playground-manager-pending")

	// Reject without a reason: the toast says why, the card stays.
	require.NoError(t, chromedp.Do(mgr, chromedp.Click(chromedp.CSS(`[data-testid="card-button-reject"]`))))
	waitJS(t, mgr, "toast", `!document.querySelector('[data-testid="toast"]').hidden && document.querySelector('[data-testid="toast"]').textContent === "请填写拒绝理由"`)
	waitJS(t, mgr, "card still pending", lastCardJS("请假申请")+`.dataset.color === "blue"`)
	waitJS(t, mgr, "input error shown", `document.querySelector('[data-testid="card-input-error-reason"]').textContent.includes("A reason is required")`)
	screenshot(t, mgr, "playground-manager-reason-missing")

	// Approve with a comment typed in the card's input.
	require.NoError(t, chromedp.Do(mgr,
		chromedp.SendKeys(chromedp.CSS(`[data-testid="card-input-reason"]`), "好好休息"),
		chromedp.Click(chromedp.CSS(`[data-testid="card-button-approve"]`)),
	))
	waitJS(t, mgr, "approved toast", `document.querySelector('[data-testid="toast"]').textContent === "已同意"`)
	waitJS(t, mgr, "card turned green", lastCardJS("请假申请")+`.dataset.color === "green" && !document.querySelector('[data-testid="card-button-approve"]')`)
	waitJS(t, emp, "applicant told live", lastCardJS("请假已批准")+` !== undefined`)
	waitJS(t, mgr, "toast gone after 3s", `document.querySelector('[data-testid="toast"]').hidden`)
	bot.mu.Lock()
	last := bot.clicks[len(bot.clicks)-1]
	bot.mu.Unlock()
	require.Equal(t, "approve", last.Name)
	require.Equal(t, map[string]string{"reason": "好好休息"}, last.Inputs)
	require.Equal(t, map[string]string{"task": "1"}, last.Value)
	require.NotEmpty(t, last.MessageRef)

	// The demo clock moves forward by one hour.
	require.NoError(t, chromedp.Do(emp, chromedp.Click(chromedp.CSS(`[data-testid="advance-hour"]`))))
	waitJS(t, emp, "clock moved", `document.querySelector('[data-testid="clock"]').textContent.endsWith("10:30")`)
	waitJS(t, mgr, "other tab's clock moved live", `document.querySelector('[data-testid="clock"]').textContent.endsWith("10:30")`)

	screenshot(t, emp, "playground-employee")
	screenshot(t, mgr, "playground-manager")

	// A reload keeps the chat (history) and the chosen user.
	require.NoError(t, chromedp.Do(emp, chromedp.Reload()))
	waitJS(t, emp, "history after reload", lastCardJS("请假已批准")+` !== undefined && document.querySelector('[data-testid="user-emp"]').classList.contains("selected")`)

	// Switching to an English user switches the page language.
	require.NoError(t, chromedp.Do(emp, chromedp.Click(chromedp.CSS(`[data-testid="user-alice"]`))))
	waitJS(t, emp, "english texts", `document.querySelector('[data-testid="send"]').textContent === "Send" && document.querySelector('[data-testid="advance-day"]').textContent === "+1 day"`)

	// Mobile width: the picker collapses into a select at the top.
	require.NoError(t, chromedp.Do(emp, chromedp.EmulateViewport(390, 780)))
	waitJS(t, emp, "mobile select shown, list hidden", `getComputedStyle(document.querySelector('[data-testid="user-select"]')).display !== "none" && getComputedStyle(document.querySelector('[data-testid="user-picker"]')).display === "none"`)
	evalJS(t, emp, `(() => { const s = document.querySelector('[data-testid="user-select"]'); s.value = "emp"; s.dispatchEvent(new Event("change")); })()`)
	waitJS(t, emp, "mobile chat", lastCardJS("请假已批准")+` !== undefined`)
	screenshot(t, emp, "playground-mobile")
}
