package dingtalk_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/adapters/dingtalk"
	"github.com/flowbot/flowbot/adapters/dingtalk/dingtalktest"
	"github.com/flowbot/flowbot/bots"
)

const (
	pathBatch = "/v1.0/robot/oToMessages/batchSend"
	pathGroup = "/v1.0/robot/groupMessages/send"
	pathCard  = "/v1.0/card/instances/createAndDeliver"
	pathToken = "/v1.0/oauth2/accessToken"
)

func TestSendFaults(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		faults  []dingtalktest.Fault
		path    string
		to      bots.Recipient
		wantErr bool
		calls   int
	}{
		{"errcode inside 200", []dingtalktest.Fault{dingtalktest.FaultErrcode}, pathBatch, bots.Recipient{UserID: "u1"}, true, 1},
		{"429 backed off", []dingtalktest.Fault{dingtalktest.FaultTooMany, dingtalktest.FaultTooMany}, pathBatch, bots.Recipient{UserID: "u1"}, false, 3},
		{"429 too long", []dingtalktest.Fault{dingtalktest.FaultTooMany, dingtalktest.FaultTooMany, dingtalktest.FaultTooMany, dingtalktest.FaultTooMany}, pathGroup, bots.Recipient{ChatID: "cidG"}, true, 4},
		{"503 backed off", []dingtalktest.Fault{dingtalktest.FaultUnavailable, dingtalktest.FaultTooMany}, pathBatch, bots.Recipient{UserID: "u1"}, false, 3},
		{"group after 503 and 429", []dingtalktest.Fault{dingtalktest.FaultUnavailable, dingtalktest.FaultTooMany}, pathGroup, bots.Recipient{ChatID: "cidG"}, false, 3},
		{"503 too long", []dingtalktest.Fault{dingtalktest.FaultUnavailable, dingtalktest.FaultUnavailable, dingtalktest.FaultUnavailable, dingtalktest.FaultUnavailable}, pathBatch, bots.Recipient{UserID: "u1"}, true, 4},
		{"flow controlled retried", []dingtalktest.Fault{dingtalktest.FaultFlowControl}, pathBatch, bots.Recipient{UserID: "u1"}, false, 2},
		{"group", nil, pathGroup, bots.Recipient{ChatID: "cidG"}, false, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, setupOpts{})
			b.fake.Fail(tt.path, tt.faults...)
			_, err := b.adapter.Send(context.Background(), tt.to, bots.Message{Text: "hello"}, "")
			if tt.wantErr {
				require.Error(t, err)
				require.Empty(t, b.fake.Sent())
			} else {
				require.NoError(t, err)
				require.Len(t, b.fake.Sent(), 1)
			}
			require.Equal(t, tt.calls, b.fake.Calls(tt.path))
		})
	}
}

func TestSendErrcodeIsAPIError(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{})
	b.fake.Fail(pathBatch, dingtalktest.FaultErrcode)
	_, err := b.adapter.Send(context.Background(), bots.Recipient{UserID: "u1"}, bots.Message{Text: "x"}, "")
	var ae *dingtalk.APIError
	require.True(t, errors.As(err, &ae), "got %v", err)
	require.Equal(t, "400002", ae.Code)
}

func TestTokenCachedAndRenewed(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{})
	b.fake.TokenTTL = 2 * time.Second // the adapter renews halfway: after 1 s
	ctx := context.Background()
	for range 3 {
		_, err := b.adapter.Send(ctx, bots.Recipient{UserID: "u1"}, bots.Message{Text: "x"}, "")
		require.NoError(t, err)
	}
	require.Equal(t, 1, b.fake.Calls(pathToken), "the token is cached")
	waitFor(t, 5*time.Second, "the token to be renewed", func() bool {
		_, err := b.adapter.Send(ctx, bots.Recipient{UserID: "u1"}, bots.Message{Text: "x"}, "")
		require.NoError(t, err)
		return b.fake.Calls(pathToken) == 2
	})
}

func TestSendIdempotent(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{})
	ctx := context.Background()
	c := bots.Card{Title: "t", Buttons: []bots.Button{{Label: "ok", Action: "approve", Value: map[string]string{"task": "1"}}}}
	ref1, err := b.adapter.Send(ctx, bots.Recipient{UserID: "u1"}, bots.Message{Card: &c}, "outbox-1")
	require.NoError(t, err)
	ref2, err := b.adapter.Send(ctx, bots.Recipient{UserID: "u1"}, bots.Message{Card: &c}, "outbox-1")
	require.NoError(t, err)
	require.Equal(t, ref1, ref2)
	require.Len(t, b.fake.Sent(), 1)

	// Another process (no cache) sends the same key: DingTalk refuses
	// the outTrackId, the adapter takes that as done.
	other, err := dingtalk.New(dingtalk.Config{Apps: []dingtalk.App{b.app}}, b.rec, dingtalk.WithLogger(quietLogger()))
	require.NoError(t, err)
	defer other.Close()
	ref3, err := other.Send(ctx, bots.Recipient{UserID: "u1"}, bots.Message{Card: &c}, "outbox-1")
	require.NoError(t, err)
	require.Equal(t, ref1, ref3)
	require.Len(t, b.fake.Sent(), 1)
}

func TestUpdate(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{})
	ctx := context.Background()
	track := b.sendCard(t, "u1", bots.Card{Title: "pending", Color: bots.ColorBlue})
	require.NoError(t, b.adapter.Update(ctx, b.app.Key+"/"+track, bots.Message{Card: &bots.Card{Title: "done", Color: bots.ColorGreen}}))
	c, _ := b.fake.Card(track)
	require.Equal(t, "done", c.Params["title"])
	require.Equal(t, 1, c.Updates)
	err := b.adapter.Update(ctx, b.app.Key+"/fb-gone", bots.Message{Card: &bots.Card{Title: "x"}})
	require.ErrorIs(t, err, bots.ErrMessageGone)
	ref, err := b.adapter.Send(ctx, bots.Recipient{UserID: "u1"}, bots.Message{Text: "t"}, "")
	require.NoError(t, err)
	require.ErrorIs(t, b.adapter.Update(ctx, ref, bots.Message{Card: &bots.Card{Title: "x"}}), bots.ErrMessageGone)
	_, err = b.adapter.Send(ctx, bots.Recipient{App: "nope", UserID: "u1"}, bots.Message{Text: "t"}, "")
	require.ErrorIs(t, err, dingtalk.ErrUnknownApp)
}

func TestLongTextSplit(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{cfg: func(c *dingtalk.Config) { c.MaxTextRunes = 100 }})
	text := strings.Repeat("第一行 line one\n", 30)
	_, err := b.adapter.Send(context.Background(), bots.Recipient{UserID: "u1"}, bots.Message{Text: text}, "")
	require.NoError(t, err)
	sent := b.fake.Sent()
	require.Greater(t, len(sent), 1)
	var joined strings.Builder
	for _, s := range sent {
		require.LessOrEqual(t, len([]rune(s.Text)), 100)
		joined.WriteString(s.Text)
	}
	require.Equal(t, text, joined.String())
}

func TestTextOnlyMode(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{textOnly: true, reply: func(ev bots.Event) (bots.Reply, error) {
		if ev.Action != nil {
			return bots.Reply{Toast: "已拒绝 rejected"}, nil
		}
		return bots.Reply{}, nil
	}})
	ctx := context.Background()
	c := bots.Card{Title: "报销 EXP-1", Buttons: []bots.Button{
		{Label: "同意", Action: "approve", Value: map[string]string{"task": "12"}},
		{Label: "拒绝", Action: "reject", Value: map[string]string{"task": "12"}},
	}}
	_, err := b.adapter.Send(ctx, bots.Recipient{UserID: "u1"}, bots.Message{Card: &c}, "")
	require.NoError(t, err)
	sent := b.fake.Sent()
	require.Len(t, sent, 1)
	require.Empty(t, sent[0].Card, "no interactive card in text-only mode")
	require.Contains(t, sent[0].Text, "/approve 12")
	require.Contains(t, sent[0].Text, "/reject 12 <reason>")

	data := b.fake.MessageData(b.app.Key, dingtalktest.Message{MsgID: "m-cmd", StaffID: "u1", Text: "/reject 12 预算不足 no budget"})
	ack, err := b.fake.Callback(b.app.Key, topicBot, "", data)
	require.NoError(t, err)
	require.Equal(t, "SUCCESS", ack.Status())
	evs := b.rec.Events()
	require.Len(t, evs, 1)
	require.NotNil(t, evs[0].Action)
	require.Equal(t, "reject", evs[0].Action.Name)
	require.Equal(t, map[string]string{"task": "12"}, evs[0].Action.Value)
	require.Equal(t, "预算不足 no budget", evs[0].Action.Inputs["reason"])
	require.Equal(t, []string{"已拒绝 rejected"}, b.fake.SessionReplies("m-cmd"), "the toast goes back through the session webhook")
}

// Return and send back have commands in text-only mode too: one per step
// the card offers to send back to.
func TestTextOnlyOutcomes(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{textOnly: true, reply: func(ev bots.Event) (bots.Reply, error) { return bots.Reply{}, nil }})
	ctx := context.Background()
	c := bots.Card{Title: "报销 EXP-1",
		Inputs: []bots.Input{{Name: "to_step", Kind: bots.InputSelect, Options: []bots.Option{{Value: "manager", Label: "直属上级审批"}, {Value: "finance", Label: "财务审批"}}}},
		Buttons: []bots.Button{
			{Label: "退回修改", Action: "return", Value: map[string]string{"task": "12"}},
			{Label: "退回到所选步骤", Action: "send_back", Value: map[string]string{"task": "12", "outcome": "send_back"}},
		}}
	_, err := b.adapter.Send(ctx, bots.Recipient{UserID: "u1"}, bots.Message{Card: &c}, "")
	require.NoError(t, err)
	sent := b.fake.Sent()
	require.Len(t, sent, 1)
	require.Contains(t, sent[0].Text, "/return 12 <reason>")
	require.Contains(t, sent[0].Text, "退回到所选步骤 (直属上级审批): `/send_back 12 manager <reason>`")
	require.Contains(t, sent[0].Text, "`/send_back 12 finance <reason>`")

	tests := []struct {
		text, action string
		inputs       map[string]string
	}{
		{"/return 12 缺发票", "return", map[string]string{"comment": "缺发票", "reason": "缺发票"}},
		{"/send_back 12 manager 请上级确认", "send_back", map[string]string{"to_step": "manager", "comment": "请上级确认", "reason": "请上级确认"}},
		{"/send_back 12 manager", "send_back", map[string]string{"to_step": "manager"}},
		{"/send_back 12", "send_back", map[string]string{"to_step": ""}},
	}
	for i, tc := range tests {
		data := b.fake.MessageData(b.app.Key, dingtalktest.Message{MsgID: fmt.Sprint("m-", i), StaffID: "u1", Text: tc.text})
		_, err := b.fake.Callback(b.app.Key, topicBot, "", data)
		require.NoError(t, err)
		evs := b.rec.Events()
		require.Len(t, evs, i+1, tc.text)
		got := evs[i].Action
		require.NotNil(t, got, tc.text)
		require.Equal(t, tc.action, got.Name, tc.text)
		require.Equal(t, map[string]string{"task": "12"}, got.Value, tc.text)
		require.Equal(t, tc.inputs, got.Inputs, tc.text)
	}
}

func TestConfigRefusals(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		app  dingtalk.App
		want string
	}{
		{"no template", dingtalk.App{Key: "k", Secret: "s"}, "card_template_id"},
		{"no secret", dingtalk.App{Key: "k", TextOnly: true}, "app_secret"},
		{"no key", dingtalk.App{Secret: "s", TextOnly: true}, "app_key"},
		{"bad mode", dingtalk.App{Key: "k", Secret: "s", TextOnly: true, Mode: "poll"}, "mode"},
	}
	for _, tt := range tests {
		_, err := dingtalk.New(dingtalk.Config{Apps: []dingtalk.App{tt.app}}, &struct{ dingtalk.Handler }{})
		require.ErrorContains(t, err, tt.want, tt.name)
	}
}
