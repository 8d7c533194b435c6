package feishu_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/adapters/feishu"
	"github.com/flowbot/flowbot/adapters/feishu/feishutest"
	"github.com/flowbot/flowbot/bots"
	"github.com/flowbot/flowbot/bots/notify"
	"github.com/flowbot/flowbot/flows"
	"github.com/flowbot/flowbot/internal/testkit"
)

const storyLeaveYAML = `
id: leave
name: {zh: 请假, en: Leave}
aliases: [请假]
fields:
  - id: type
    type: select
    label: {zh: 类型, en: Type}
    required: true
    options:
      - {value: annual, label: {zh: 年假, en: Annual}}
      - {value: sick, label: {zh: 病假, en: Sick}}
  - id: period
    type: daterange
    label: {zh: 时间, en: Period}
    required: true
  - id: reason
    type: textarea
    label: {zh: 事由, en: Reason}
steps:
  - id: manager
    name: {zh: 上级审批, en: Manager}
    approvers: [{manager: 1}]
`

// TestLeaveStory runs the real bot, engine and notifier behind the adapter:
// an employee asks for leave in a p2p chat, the manager approves on the
// card, the applicant is told and every copy of the card is patched.
func TestLeaveStory(t *testing.T) {
	t.Parallel()
	for _, mode := range []string{feishu.ModeHTTP, feishu.ModeWebSocket} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			db := testkit.OpenSQLite(t)
			engine := flows.New(flows.Config{Store: db, Logger: quietLogger()})
			_, _, err := engine.PublishFlow(ctx, "leave.yaml", []byte(storyLeaveYAML))
			require.NoError(t, err)
			bot := bots.New(bots.Config{Engine: engine, Store: db, State: testkit.NewMemState(nil),
				Dedupe: testkit.NewMemDedupe(), Logger: quietLogger()})

			b := setup(t, setupOpts{mode: mode, handler: bot})
			app := b.app.ID
			key := "feishu:" + app
			users := []*flows.User{
				{ID: "mgr", Name: "李雷", Dept: "eng", Locale: "zh-CN", Platforms: map[string]string{key: "ou_mgr"}},
				{ID: "emp", Name: "韩梅梅", Dept: "eng", Manager: "mgr", Locale: "zh-CN", Platforms: map[string]string{key: "ou_emp"}},
			}
			depts := []*flows.Department{{ID: "eng", Name: "研发部", NameEN: "Engineering", Head: "mgr"}}
			require.NoError(t, db.ReplaceDirectory(ctx, users, depts))
			n := notify.New(notify.Config{Store: db, Renderer: bot, Messengers: map[string]bots.Messenger{"feishu": b.adapter},
				Backoff: []time.Duration{10 * time.Millisecond}, Logger: quietLogger()})
			drain := func() {
				for {
					got, err := n.DrainOnce(ctx)
					require.NoError(t, err)
					if got == 0 {
						return
					}
				}
			}
			empChat := feishutest.P2PChatID("ou_emp")
			// say sends text as the employee and waits for the bot's answer.
			say := func(text string) feishutest.Message {
				before := len(b.fake.Messages())
				r := b.fake.DeliverMessage(t, app, "ou_emp", empChat, text)
				require.Equal(t, http.StatusOK, r.Status, "body %s", r.Body)
				var got feishutest.Message
				waitFor(t, 5*time.Second, "answer to "+text, func() bool {
					msgs := b.fake.Messages()
					if len(msgs) > before {
						got = msgs[len(msgs)-1]
						return true
					}
					return false
				})
				return got
			}
			ask := say("请假")
			require.Contains(t, ask.Text(), "类型")
			require.Contains(t, say("1").Text(), "时间")
			require.Contains(t, say("2026-12-01 至 2026-12-03").Text(), "事由")
			summary := say("家里有事")
			require.Equal(t, "interactive", summary.MsgType)
			submit := buttonByAction(t, summary.Card(), "submit")
			c := b.fake.Click(t, app, "ou_emp", summary.ID, submit, nil)
			require.Equal(t, http.StatusOK, c.Status, "body %s", c.Body)

			// The manager's card arrives.
			drain()
			var task feishutest.Message
			for _, m := range b.fake.Messages() {
				if m.ReceiveID == "ou_mgr" && m.MsgType == "interactive" {
					task = m
				}
			}
			require.NotEmpty(t, task.ID, "the manager got a task card")
			require.Contains(t, task.Content, "韩梅梅")

			// The manager approves; the click's answer is the updated card.
			approve := buttonByAction(t, task.Card(), "approve")
			c = b.fake.Click(t, app, "ou_mgr", task.ID, approve, map[string]any{})
			require.Equal(t, http.StatusOK, c.Status, "body %s", c.Body)
			require.NotNil(t, c.Card, "the click is answered with the updated card; body %s", c.Body)
			require.Empty(t, feishutest.Buttons(c.Card), "a decided card has no buttons")
			require.Equal(t, "green", c.Card["header"].(map[string]any)["template"])

			// The applicant is told, and every copy of the card is patched.
			drain()
			told := false
			for _, m := range b.fake.Messages() {
				if (m.ReceiveID == "ou_emp" || m.ChatID == empChat) && m.ID != summary.ID && m.ID != ask.ID &&
					(strings.Contains(m.Content, "同意") || strings.Contains(m.Content, "通过") || strings.Contains(m.Content, "批准")) {
					told = true
				}
			}
			require.True(t, told, "the applicant is told of the approval")
			patched, _ := b.fake.Message(task.ID)
			require.GreaterOrEqual(t, patched.Updates, 1, "the manager's card copy is patched")
			require.Empty(t, feishutest.Buttons(patched.Card()), "the patched copy has no buttons")
		})
	}
}

func buttonByAction(t testing.TB, card map[string]any, action string) map[string]any {
	t.Helper()
	var names []string
	for _, btn := range feishutest.Buttons(card) {
		if btn.Value["a"] == action {
			return btn.Value
		}
		names = append(names, btn.Label)
	}
	t.Fatalf("no %q button on the card; buttons: %v", action, names)
	return nil
}
