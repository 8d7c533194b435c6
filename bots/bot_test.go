package bots_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/bots"
	"github.com/flowbot/flowbot/flows"
)

func TestCommandsInBothLanguages(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.submit(t, "dev1", 2) // dev1 has a request; cto has a task
	tests := []struct {
		user, text string
		want       []string
	}{
		{"dev1", "/help", []string{"/todo", "/leave", "请假", "/cancel"}},
		{"dev1", "帮助", []string{"/mine [状态]（我的申请）"}},
		{"dev2", "help", []string{"/todo — approvals waiting for me", "/leave (请假, qingjia) — Leave"}},
		{"dev1", "/flows", []string{"你可以发起的流程", "/leave"}},
		{"dev2", "流程", []string{"Flows you can start", "Leave"}},
		{"cto", "/todo", []string{"你有 1 条待审批", "LEAVE-20261126-0001", "[同意]", "[驳回]"}},
		{"cto", "待办", []string{"LEAVE-20261126-0001"}},
		{"dev2", "/todo", []string{"Nothing is waiting for you"}},
		{"dev1", "/mine", []string{"我的申请", "LEAVE-20261126-0001", "请假 · 审批中 · 上级审批"}},
		{"dev1", "我的申请", []string{"LEAVE-20261126-0001"}},
		{"dev2", "/mine", []string{"You have no requests yet"}},
		{"dev1", "/status leave-20261126-0001", []string{"请假 · LEAVE-20261126-0001", "→ 上级审批 — 李雷", "[催办]", "[撤回]"}},
		{"dev1", "进度 1", []string{"LEAVE-20261126-0001", "韩梅梅 提交了申请"}},
		{"cto", "/status LEAVE-20261126-0001", []string{"审批中"}},
		{"hr1", "/status LEAVE-20261126-0001", []string{"你无权查看申请 LEAVE-20261126-0001"}},
		{"dev1", "/status LEAVE-20991231-0001", []string{"找不到申请"}},
		{"dev1", "/status", []string{"请在命令后写上申请编号"}},
		{"dev2", "/withdraw", []string{"Add a request number"}},
		{"dev1", "/cancel", []string{"当前没有进行中的对话"}},
		{"dev2", "cancel", []string{"There is no conversation to cancel"}},
		{"dev1", "/stats", []string{"只有部门经理和管理员可以查看统计"}},
		{"cto", "统计", []string{"审批统计（近 30 天）", "研发部", "申请总数: 1", "审批中: 1", "请假: 1"}},
		{"ceo", "/stats", []string{"全公司", "申请总数: 1"}},
		{"dev1", "/报销", []string{"你没有发起「报销」的权限"}},
	}
	for _, tt := range tests {
		t.Run(tt.user+" "+tt.text, func(t *testing.T) {
			got := text(b.say(t, tt.user, tt.text))
			for _, w := range tt.want {
				require.Contains(t, got, w)
			}
		})
	}
}

func TestWithdrawAndUrgeCommands(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.submit(t, "dev1", 2)
	got := text(b.say(t, "dev1", "/urge LEAVE-20261126-0001"))
	require.Contains(t, got, "已催办审批人")
	got = text(b.say(t, "dev1", "催办 LEAVE-20261126-0001"))
	require.Contains(t, got, "刚催办过")
	got = text(b.say(t, "cto", "/withdraw LEAVE-20261126-0001"))
	require.Contains(t, got, "只有申请人可以这样做")
	got = text(b.say(t, "dev1", "撤回 LEAVE-20261126-0001 计划有变"))
	require.Contains(t, got, "已撤回")
	got = text(b.say(t, "dev1", "/withdraw LEAVE-20261126-0001"))
	require.Contains(t, got, "已结束")
	todo := text(b.say(t, "cto", "/todo"))
	require.Contains(t, todo, "没有待你审批的事项")
}

func TestLeaveConversation(t *testing.T) {
	t.Parallel()
	b := setup(t)
	got := text(b.say(t, "dev1", "/leave"))
	require.Contains(t, got, "请假 · 第 1/3 项")
	require.Contains(t, got, "类型（必填）")
	require.Contains(t, got, "1. 年假")
	require.Contains(t, got, "2. 病假")

	got = text(b.say(t, "dev1", "9"))
	require.Contains(t, got, "「类型」填写有误")
	require.Contains(t, got, "第 1/3 项", "a wrong answer asks the same question again")

	got = text(b.say(t, "dev1", "1"))
	require.Contains(t, got, "第 2/3 项")
	require.Contains(t, got, "起止日期", "the help text is shown")
	require.Contains(t, got, "2026-12-01~2026-12-03", "an example is shown")

	got = text(b.say(t, "dev1", "not a date"))
	require.Contains(t, got, "「时间」填写有误")
	got = text(b.say(t, "dev1", "2026-12-01~2026-12-03"))
	require.Contains(t, got, "第 3/3 项")
	require.Contains(t, got, "选填")

	rep := b.say(t, "dev1", "跳过")
	card := lastCard(t, rep)
	require.Equal(t, "请确认：请假", card.Title)
	require.Len(t, card.Fields, 2, "the skipped field is not shown: %q", cardText(card))
	require.Equal(t, []string{"submit", "form", "cancel"}, actions(card))

	// Text that is not an answer while confirming gets a hint, not a submit.
	require.Contains(t, text(b.say(t, "dev1", "嗯")), "请点击上方卡片")

	rep = b.click(t, "dev1", button(t, card, "submit"), nil)
	require.Contains(t, rep.Toast, "LEAVE-20261126-0001")
	require.NotNil(t, rep.Card)
	got = cardText(rep.Card)
	require.Contains(t, got, "→ 上级审批 — 李雷")
	require.Contains(t, got, "审批中")

	// The summary cannot submit twice, and the conversation is over.
	rep = b.click(t, "dev1", button(t, card, "submit"), nil)
	require.Contains(t, rep.Toast, "确认卡已过期")
	require.Contains(t, text(b.say(t, "cto", "/todo")), "你有 1 条待审批")
	require.Contains(t, text(b.say(t, "dev1", "1")), "没看懂")
}

func TestConversationInEnglishAndCancel(t *testing.T) {
	t.Parallel()
	b := setup(t)
	got := text(b.say(t, "dev2", "leave"))
	require.Contains(t, got, "Leave · question 1 of 3")
	require.Contains(t, got, "Type (required)")
	got = text(b.say(t, "dev2", "skip"))
	require.Contains(t, got, "Type is required and cannot be skipped")
	b.say(t, "dev2", "2")
	b.say(t, "dev2", "2026-12-01~2026-12-02")
	card := lastCard(t, b.say(t, "dev2", "need rest"))
	require.Equal(t, "Please confirm: Leave", card.Title)

	// A second conversation gets a new token: the old card cannot cancel it.
	card2 := lastCard(t, b.say(t, "dev2", "/leave type=sick period=2026-12-01~2026-12-02"))
	rep := b.click(t, "dev2", button(t, card, "cancel"), nil)
	require.Contains(t, rep.Toast, "out of date")
	rep = b.click(t, "dev2", button(t, card2, "cancel"), nil)
	require.Contains(t, rep.Toast, "Cancelled")
	require.Equal(t, bots.ColorGrey, rep.Card.Color)
	require.Contains(t, text(b.say(t, "dev2", "/mine")), "no requests")
}

func TestInlineArguments(t *testing.T) {
	t.Parallel()
	b := setup(t)
	tests := []struct {
		name, text string
		fields     int
		want       []string
	}{
		{"from and to", `/leave type=annual from=2026-12-01 to=2026-12-03 reason="family matters"`, 3, []string{"family matters"}},
		{"period", `请假 类型=sick period=2026-12-01~2026-12-02`, 2, nil},
		{"chinese quotes", `/qingjia type=annual period=2026-12-01~2026-12-02 reason=“家里 有事”`, 3, []string{"家里 有事"}},
	}
	for _, tt := range tests {
		rep := b.say(t, "dev1", tt.text)
		card := lastCard(t, rep)
		require.Equal(t, "请确认：请假", card.Title, tt.name)
		require.Len(t, card.Fields, tt.fields, "%s: %q", tt.name, cardText(card))
		for _, w := range tt.want {
			require.Contains(t, cardText(card), w, tt.name)
		}
	}
	// Missing required fields are asked; only those.
	got := text(b.say(t, "dev1", "/leave type=annual"))
	require.Contains(t, got, "第 1/1 项")
	require.Contains(t, got, "时间（必填）")
	// A wrong value is reported and asked again.
	got = text(b.say(t, "dev1", "/leave type=holiday period=2026-12-01~2026-12-02"))
	require.Contains(t, got, "「类型」填写有误")
	require.Contains(t, got, "类型（必填）")
	// Submitting by text works too.
	b.say(t, "dev1", "/leave type=annual period=2026-12-01~2026-12-02")
	rep := b.say(t, "dev1", "提交")
	require.Contains(t, text(rep), "LEAVE-20261126-0001")
}

func TestBadInput(t *testing.T) {
	t.Parallel()
	b := setup(t)
	tests := []struct {
		name, user, text string
		want             []string
	}{
		{"empty", "dev1", "   ", []string{"发送 /help"}},
		{"empty en", "dev2", "", []string{"Send /help"}},
		{"too long", "dev1", strings.Repeat("长", bots.MaxTextChars+1), []string{"消息太长了", "2001 个字，上限 2000 个字"}},
		{"long in bytes, not in characters", "dev1", "/help " + strings.Repeat("长", 1800), []string{"我可以帮你"}},
		{"unknown command", "dev1", "/leav", []string{"没有「/leav」这个命令", "你是不是想用 /leave", "/help"}},
		{"unknown command en", "dev2", "/tood", []string{"Unknown command", "Did you mean /todo?"}},
		{"not a command", "dev1", "hello there", []string{"没看懂「hello there」", "/help"}},
		{"unknown field", "dev1", "/leave days=3", []string{"没有字段「days」", "type（类型）、period（时间）、reason（事由）"}},
		{"bare argument", "dev1", "/leave 3", []string{"请用 字段=值", "type（类型）"}},
		{"unclosed quote", "dev1", `/leave reason="abc`, []string{"引号没有配对"}},
		{"bad number", "dev1", "/status abc", []string{"找不到申请 abc"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := text(b.say(t, tt.user, tt.text))
			for _, w := range tt.want {
				require.Contains(t, got, w)
			}
		})
	}
	// None of them started a conversation.
	require.Contains(t, text(b.say(t, "dev1", "1")), "没看懂")
}

func TestUnknownUser(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for _, ev := range []bots.Event{
		{Platform: "web", ID: "u1", UserID: "nobody", ChatID: "x", Text: "/todo"},
		{Platform: "feishu", App: "cli_a", ID: "u2", UserID: "ou_unknown", Text: "/leave"},
		{Platform: "teams", ID: "u3", UserID: "29:abc", Action: &bots.Action{Name: "approve", Value: map[string]string{"task": "1"}}},
	} {
		rep, err := b.bot.Handle(b.ctx, ev)
		require.NoError(t, err)
		got := text(rep)
		require.Contains(t, got, admin)
		require.Contains(t, got, "通讯录里找不到你")
		require.Contains(t, got, "you are not in the directory")
	}
	require.Zero(t, b.state.Calls(), "an unknown user touches no conversation")
}

func TestIdentityFallbacks(t *testing.T) {
	t.Parallel()
	b := setup(t)
	tests := []struct {
		name string
		ev   bots.Event
	}{
		{"feishu app id", bots.Event{Platform: "feishu", App: "cli_a", UserID: "ou_dev1", Text: "/mine"}},
		{"email", bots.Event{Platform: "wecom", UserID: "zhangsan", Email: "DEV1@example.com", Text: "/mine"}},
	}
	for _, tt := range tests {
		rep, err := b.bot.Handle(b.ctx, tt.ev)
		require.NoError(t, err, tt.name)
		require.Contains(t, text(rep), "你还没有发起过申请", tt.name)
	}
}

func TestDuplicateEvent(t *testing.T) {
	t.Parallel()
	b := setup(t)
	out := b.submit(t, "dev1", 2)
	task := pendingTask(t, out, "cto")
	ev := bots.Event{Platform: "web", ID: "same", UserID: "cto", ChatID: "cto",
		Action: &bots.Action{Name: "approve", Value: map[string]string{"task": "1", "instance": "1"}}}
	require.Equal(t, int64(1), task.ID)
	rep, err := b.bot.Handle(b.ctx, ev)
	require.NoError(t, err)
	require.Equal(t, "已同意", rep.Toast)
	rep, err = b.bot.Handle(b.ctx, ev)
	require.NoError(t, err)
	require.Equal(t, bots.Reply{Outcome: bots.OutcomeDuplicate}, rep, "a redelivered event is answered with nothing")
	// The same id on another platform is another event.
	ev.Platform, ev.UserID = "feishu", "ou_dev1"
	ev.App, ev.Action = "cli_a", nil
	ev.Text = "/mine"
	rep, err = b.bot.Handle(b.ctx, ev)
	require.NoError(t, err)
	require.Contains(t, text(rep), "LEAVE-20261126-0001")
	require.Contains(t, text(rep), "已通过")
}

func TestExpiredConversation(t *testing.T) {
	t.Parallel()
	b := setup(t)
	require.Contains(t, text(b.say(t, "dev1", "/leave")), "第 1/3 项")
	b.clock.Add(31 * time.Minute)
	got := text(b.say(t, "dev1", "年假"))
	require.Contains(t, got, "没看懂「年假」")
	require.Contains(t, got, "已超时结束")
}

func TestStateStoreDown(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.submit(t, "dev1", 2)
	b.state.SetDown(true)
	tests := []struct {
		text string
		want string
		// fails: the event needs the conversation state; it fails (the
		// platform delivers it again) and nothing of it is kept.
		fails bool
	}{
		{"/leave", "暂时无法继续对话", true},
		{"1", "Cannot continue the conversation right now", true},
		{"/mine", "LEAVE-20261126-0001", false},
		{"/todo", "没有待你审批的事项", false},
		{"帮助", "/todo", false},
	}
	var failed []bots.Event
	for _, tt := range tests {
		ev := b.msg("dev1", tt.text)
		rep, err := b.bot.Handle(b.ctx, ev)
		require.Contains(t, text(rep), tt.want, tt.text)
		if !tt.fails {
			require.NoError(t, err, tt.text)
			continue
		}
		require.ErrorIs(t, err, bots.ErrStateDown, tt.text)
		failed = append(failed, ev)
	}
	// The store is back and the platform delivers the failed events
	// again: each is handled afresh, as if for the first time.
	b.state.SetDown(false)
	rep, err := b.bot.Handle(b.ctx, failed[0])
	require.NoError(t, err)
	require.NotContains(t, text(rep), "暂时无法继续对话")
	require.NotEmpty(t, rep.Messages, "the conversation starts: its first question")
	require.NotEmpty(t, rep.Messages[0].Key, "and its reply is durable (the failed attempt kept none)")
}

func TestInternalErrorIsReturned(t *testing.T) {
	t.Parallel()
	b := setup(t)
	require.NoError(t, b.db.Close())
	rep, err := b.bot.Handle(b.ctx, b.msg("dev1", "/todo"))
	require.Error(t, err, "the adapter must be told to retry")
	require.Contains(t, text(rep), "内部错误")
	require.Contains(t, text(rep), "Internal error")
}

func TestMessageCatalogIsBilingual(t *testing.T) {
	t.Parallel()
	keys := bots.MessageKeys()
	require.Greater(t, len(keys), 100)
	for _, k := range keys {
		txt, ok := bots.MessageText(k)
		require.True(t, ok)
		require.NotEmpty(t, txt.ZH, "key %s has no Chinese text", k)
		require.NotEmpty(t, txt.EN, "key %s has no English text", k)
	}
	require.Equal(t, "已同意", bots.T("zh-CN", "toast_approved", nil))
	require.Equal(t, "Transferred to Tom", bots.T("en", "toast_transferred", map[string]any{"to": "Tom"}))
	require.Equal(t, "no_such_key", bots.T("en", "no_such_key", nil))
}

func TestCardsStaySmall(t *testing.T) {
	t.Parallel()
	b := setup(t)
	long := strings.Repeat("很长的理由。", 300)
	from := "2026-12-01"
	out, err := b.engine.Submit(b.ctx, flows.SubmitRequest{Actor: "dev1", FlowID: "leave", Values: map[string]any{
		"type": "annual", "period": map[string]any{"from": from, "to": from}, "reason": long,
	}})
	require.NoError(t, err)
	v, err := b.engine.View(b.ctx, out.Instance.ID)
	require.NoError(t, err)
	users, _ := testOrg()
	for _, c := range []*bots.Card{b.bot.TaskCard(v, pendingTask(t, out, "cto"), users[1]), b.bot.RequestCard(v, users[2])} {
		raw, err := json.Marshal(c)
		require.NoError(t, err)
		require.Less(t, len(raw), 8*1024, "card of %d bytes", len(raw))
		require.LessOrEqual(t, len(c.Fields), 15)
		require.LessOrEqual(t, len(c.Buttons), 6)
		for _, f := range c.Fields {
			require.LessOrEqual(t, len([]rune(f.Value)), 500)
		}
	}
}
