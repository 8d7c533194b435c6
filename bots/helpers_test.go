package bots_test

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/bots"
	"github.com/flowbot/flowbot/flows"
	"github.com/flowbot/flowbot/internal/testkit"
	"github.com/flowbot/flowbot/store/sqlite"
)

// Directory: ceo <- cto <- dev1 (zh), dev2 (en); hr1 has role hr; fin1 is
// in finance. dev1 is also known on Feishu app cli_a through an open id.
// testUsers are testOrg's users by id.
func testUsers() map[string]*flows.User {
	users, _ := testOrg()
	byID := map[string]*flows.User{}
	for _, u := range users {
		byID[u.ID] = u
	}
	return byID
}

func testOrg() ([]*flows.User, []*flows.Department) {
	users := []*flows.User{
		{ID: "ceo", Name: "王总", Email: "ceo@example.com", Dept: "exec", Roles: []string{"admin"}, Locale: "zh-CN"},
		{ID: "cto", Name: "李雷", Email: "cto@example.com", Dept: "eng", Manager: "ceo", Locale: "zh-CN", TZ: "Asia/Shanghai"},
		{ID: "dev1", Name: "韩梅梅", Email: "dev1@example.com", Dept: "eng", Manager: "cto", Locale: "zh-CN",
			Platforms: map[string]string{"feishu:cli_a": "ou_dev1"}},
		{ID: "dev2", Name: "Tom", Email: "tom@example.com", Dept: "eng", Manager: "cto", Locale: "en", TZ: "Europe/London"},
		{ID: "hr1", Name: "刘人事", Dept: "hr", Manager: "ceo", Roles: []string{"hr"}},
		{ID: "fin1", Name: "张会计", Dept: "fin", Manager: "ceo"},
	}
	depts := []*flows.Department{
		{ID: "exec", Name: "总经办", NameEN: "Executive office", Head: "ceo"},
		{ID: "eng", Name: "研发部", NameEN: "Engineering", Head: "cto", Parent: "exec"},
		{ID: "hr", Name: "人事部", NameEN: "HR", Head: "hr1", Parent: "exec"},
		{ID: "fin", Name: "财务部", NameEN: "Finance", Head: "", Parent: "exec"},
	}
	return users, depts
}

const leaveYAML = `
id: leave
name: {zh: 请假, en: Leave}
aliases: [请假, qingjia]
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
    help: {zh: 起止日期, en: First and last day}
    required: true
  - id: reason
    type: textarea
    label: {zh: 事由, en: Reason}
steps:
  - id: manager
    name: {zh: 上级审批, en: Manager}
    approvers: [{manager: 1}]
  - id: hr
    name: {zh: 人事审批, en: HR}
    when: period.days > 3
    approvers: [{role: hr}]
`

const expenseYAML = `
id: expense
name: {zh: 报销, en: Expense}
aliases: [报销]
start:
  roles: [finance_only]
fields:
  - id: amount
    type: money
    label: {zh: 金额, en: Amount}
    required: true
steps:
  - id: manager
    name: {zh: 上级, en: Manager}
    approvers: [{manager: 1}]
`

type bundle struct {
	ctx    context.Context
	db     *sqlite.DB
	engine *flows.Engine
	bot    *bots.Bot
	clock  *testkit.Clock
	state  *testkit.MemState
	seq    atomic.Int64
}

const admin = "IT 服务台 / IT helpdesk (it@example.com)"

func setup(t testing.TB) *bundle {
	t.Helper()
	ctx := context.Background()
	db := testkit.OpenSQLite(t)
	b := &bundle{ctx: ctx, db: db, clock: testkit.NewClock(time.Date(2026, 11, 26, 2, 0, 0, 0, time.UTC))}
	b.engine = flows.New(flows.Config{Store: db, Clock: b.clock})
	users, depts := testOrg()
	require.NoError(t, db.ReplaceDirectory(ctx, users, depts))
	for _, src := range []string{leaveYAML, expenseYAML} {
		_, _, err := b.engine.PublishFlow(ctx, "test.yaml", []byte(src))
		require.NoError(t, err)
	}
	b.state = testkit.NewMemState(b.clock.Now)
	b.bot = bots.New(bots.Config{
		Engine: b.engine, Store: db, State: b.state, Dedupe: testkit.NewMemDedupe(),
		AdminContact: admin,
	})
	return b
}

// say sends a text message from a playground user and expects no internal error.
func (b *bundle) say(t testing.TB, user, text string) bots.Reply {
	t.Helper()
	rep, err := b.bot.Handle(b.ctx, b.msg(user, text))
	require.NoError(t, err)
	return rep
}

func (b *bundle) msg(user, text string) bots.Event {
	return bots.Event{Platform: "web", ID: fmt.Sprint("e", b.seq.Add(1)), UserID: user, ChatID: user, ChatType: "p2p", Text: text}
}

// click clicks a button as user.
func (b *bundle) click(t testing.TB, user string, btn bots.Button, inputs map[string]string) bots.Reply {
	t.Helper()
	ev := bots.Event{Platform: "web", ID: fmt.Sprint("e", b.seq.Add(1)), UserID: user, ChatID: user,
		Action: &bots.Action{Name: btn.Action, Value: btn.Value, Inputs: inputs}}
	rep, err := b.bot.Handle(b.ctx, ev)
	require.NoError(t, err)
	return rep
}

// submit files a leave request for dev1 through the engine.
func (b *bundle) submit(t testing.TB, actor string, days int) *flows.Outcome {
	t.Helper()
	from := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	out, err := b.engine.Submit(b.ctx, flows.SubmitRequest{Actor: actor, FlowID: "leave", Values: map[string]any{
		"type":   "annual",
		"period": map[string]any{"from": from.Format("2006-01-02"), "to": from.AddDate(0, 0, days-1).Format("2006-01-02")},
		"reason": "family",
	}})
	require.NoError(t, err)
	return out
}

func pendingTask(t testing.TB, out *flows.Outcome, assignee string) *flows.Task {
	t.Helper()
	for _, x := range out.Tasks {
		if x.Status == flows.TaskPending && x.Assignee == assignee {
			return x
		}
	}
	t.Fatalf("no pending task of %s; got %d tasks", assignee, len(out.Tasks))
	return nil
}

// text joins every text and card of a reply, for assertions on what the user reads.
func text(rep bots.Reply) string {
	var sb strings.Builder
	sb.WriteString(rep.Toast)
	sb.WriteString("\n")
	for _, m := range rep.Messages {
		sb.WriteString(m.Text)
		sb.WriteString("\n")
		if m.Card != nil {
			sb.WriteString(cardText(m.Card))
		}
	}
	if rep.Card != nil {
		sb.WriteString(cardText(rep.Card))
	}
	return sb.String()
}

func cardText(c *bots.Card) string {
	var sb strings.Builder
	fmt.Fprintln(&sb, c.Title)
	for _, f := range c.Fields {
		fmt.Fprintln(&sb, f.Label+": "+f.Value)
	}
	fmt.Fprintln(&sb, c.Markdown)
	for _, in := range c.Inputs {
		fmt.Fprintln(&sb, in.Label, in.Error)
	}
	for _, x := range c.Buttons {
		fmt.Fprintln(&sb, "["+x.Label+"]")
	}
	fmt.Fprintln(&sb, c.Note)
	return sb.String()
}

// lastCard returns the last card of a reply's messages.
func lastCard(t testing.TB, rep bots.Reply) *bots.Card {
	t.Helper()
	for i := len(rep.Messages) - 1; i >= 0; i-- {
		if rep.Messages[i].Card != nil {
			return rep.Messages[i].Card
		}
	}
	t.Fatalf("no card in reply: %q", text(rep))
	return nil
}

func button(t testing.TB, c *bots.Card, action string) bots.Button {
	t.Helper()
	for _, x := range c.Buttons {
		if x.Action == action {
			return x
		}
	}
	t.Fatalf("no %s button on card %q", action, c.Title)
	return bots.Button{}
}

func actions(c *bots.Card) []string {
	var out []string
	for _, x := range c.Buttons {
		out = append(out, x.Action)
	}
	return out
}

// taskButton builds the button of a task card without showing the card.
func taskButton(action string, task *flows.Task) bots.Button {
	return bots.Button{Action: action, Value: map[string]string{"task": fmt.Sprint(task.ID), "instance": fmt.Sprint(task.InstanceID)}}
}
