package wecom_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/adapters/wecom"
	"github.com/flowbot/flowbot/adapters/wecom/wecomtest"
	"github.com/flowbot/flowbot/bots"
)

// TestReminderBurstKeepsMemberLimit: 200 reminders to one member, sent
// at once, are all delivered (none dropped by WeCom's silent limit) and
// none twice. The windows are shortened: 30 per 200ms, 1000 per 20s.
func TestReminderBurstKeepsMemberLimit(t *testing.T) {
	t.Parallel()
	lim := wecomtest.Limits{PerMinute: 30, PerHour: 1000, Minute: 200 * time.Millisecond, Hour: 20 * time.Second}
	b := setup(t, setupOpts{
		rate:     wecom.RateLimits{PerMinute: 30, PerHour: 1000, Minute: lim.Minute, Hour: lim.Hour},
		fakeOpts: []wecomtest.Option{wecomtest.WithLimits(lim)},
	})
	to := bots.Recipient{Platform: wecom.Platform, UserID: "LiLei"}
	var wg sync.WaitGroup
	errs := make(chan error, 400)
	for i := range 200 {
		wg.Go(func() {
			key := fmt.Sprintf("outbox-%d", i)
			msg := bots.Message{Text: fmt.Sprintf("reminder %d", i), Key: key}
			_, err := b.adapter.Send(b.ctx, to, msg, key)
			errs <- err
			_, err = b.adapter.Send(b.ctx, to, msg, key) // the notifier's retry
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	require.Zero(t, b.fake.Dropped(), "no message dropped past WeCom's limit")
	msgs := b.fake.MessagesTo("LiLei")
	require.Len(t, msgs, 200)
	seen := map[string]bool{}
	for _, m := range msgs {
		require.False(t, seen[m.Text], "%q shown twice", m.Text)
		seen[m.Text] = true
	}
}

// TestFakeDropsPastLimit: without the queue WeCom (the fake) drops
// silently: this is what the queue prevents.
func TestFakeDropsPastLimit(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{rate: wecom.RateLimits{PerMinute: 1000, PerHour: 100000}})
	to := bots.Recipient{Platform: wecom.Platform, UserID: "LiLei"}
	for i := range 35 {
		_, err := b.adapter.Send(b.ctx, to, bots.Message{Text: fmt.Sprint(i)}, "")
		require.NoError(t, err, "WeCom answers ok")
	}
	require.Len(t, b.fake.MessagesTo("LiLei"), 30)
	require.Equal(t, 5, b.fake.Dropped())
}

func TestTokenRenewedOnExpiry(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{})
	to := bots.Recipient{Platform: wecom.Platform, UserID: "u1"}
	_, err := b.adapter.Send(b.ctx, to, bots.Message{Text: "one"}, "")
	require.NoError(t, err)
	require.Equal(t, 1, b.fake.Calls("/cgi-bin/gettoken"), "the token is cached")
	b.fake.ExpireTokens()
	_, err = b.adapter.Send(b.ctx, to, bots.Message{Text: "two"}, "")
	require.NoError(t, err)
	require.Equal(t, 2, b.fake.Calls("/cgi-bin/gettoken"), "42001 renews the token once")
	require.Len(t, b.fake.MessagesTo("u1"), 2)
}

func TestServerErrorsRetried(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{})
	b.fake.FailNext("/cgi-bin/message/send", 2)
	_, err := b.adapter.Send(b.ctx, bots.Recipient{UserID: "u1"}, bots.Message{Text: "hi"}, "k1")
	require.NoError(t, err)
	require.Len(t, b.fake.MessagesTo("u1"), 1)
}

func TestErrcodeInOKAnswerIsAnError(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{})
	card := bots.Card{Title: "t", Buttons: []bots.Button{{Label: "ok", Action: "approve"}}}
	err := b.adapter.Update(b.ctx, "bad-ref", bots.Message{Card: &card})
	require.ErrorIs(t, err, wecom.ErrBadRef)
	_, err = b.adapter.Send(b.ctx, bots.Recipient{UserID: "u1", App: "nope"}, bots.Message{Text: "x"}, "")
	require.ErrorIs(t, err, wecom.ErrUnknownApp)
	// A 200 answer with errcode ≠ 0 (a wrong secret: 40001) is an error.
	a2, err := wecom.New(wecom.Config{Apps: []wecom.App{{CorpID: b.app.CorpID, AgentID: b.app.AgentID, Secret: "wrong",
		Token: b.app.Token, EncodingAESKey: b.app.EncodingAESKey, BaseURL: b.fake.URL}}}, b.rec, wecom.WithLogger(quietLogger()))
	require.NoError(t, err)
	defer a2.Close()
	_, err = a2.Send(b.ctx, bots.Recipient{UserID: "u1"}, bots.Message{Text: "x"}, "")
	var apiErr *wecom.APIError
	require.True(t, errors.As(err, &apiErr), "got %v", err)
	require.Equal(t, 40001, apiErr.ErrCode)

	// errcode ≠ 0 in a send's 200 answer (an agent id WeCom does not know).
	a3, err := wecom.New(wecom.Config{Apps: []wecom.App{{CorpID: b.app.CorpID, AgentID: 1000003, Secret: b.app.Secret,
		Token: b.app.Token, EncodingAESKey: b.app.EncodingAESKey, BaseURL: b.fake.URL}}}, b.rec, wecom.WithLogger(quietLogger()))
	require.NoError(t, err)
	defer a3.Close()
	_, err = a3.Send(b.ctx, bots.Recipient{UserID: "u1"}, bots.Message{Text: "x"}, "")
	require.True(t, errors.As(err, &apiErr), "got %v", err)
	require.Equal(t, 40056, apiErr.ErrCode)
	require.Empty(t, b.fake.Messages())
}

func TestLongTextSplit(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{})
	text := strings.Repeat("审批意见 approval note\n", 300) // ~8 KB
	_, err := b.adapter.Send(b.ctx, bots.Recipient{UserID: "u1"}, bots.Message{Text: text}, "long")
	require.NoError(t, err)
	var got strings.Builder
	for _, m := range b.fake.MessagesTo("u1") {
		require.LessOrEqual(t, len(m.Text), wecom.MaxTextBytes)
		got.WriteString(m.Text)
	}
	require.Equal(t, text, got.String(), "split, not truncated")
	require.Greater(t, len(b.fake.MessagesTo("u1")), 3)
}

// TestUpdateUsesCodesThenResends: each copy is updated with its send's
// code; once no code is left the card is sent again as a new message, and
// later updates go to that one.
func TestUpdateUsesCodesThenResends(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{})
	card := bots.Card{Title: "请假审批", Buttons: []bots.Button{{Label: "同意", Action: "approve", Value: map[string]string{"task": "1"}}}}
	ref, m := b.sendCard(t, "LiLei", card, "outbox-9")
	again, err := b.adapter.Send(b.ctx, bots.Recipient{UserID: "LiLei"}, bots.Message{Card: &card}, "outbox-9")
	require.NoError(t, err)
	require.Equal(t, ref, again, "a retried send returns the first reference")
	require.Len(t, b.fake.MessagesTo("LiLei"), 1)

	done := bots.Card{Title: "请假审批", Color: bots.ColorGreen, Note: "已同意"}
	require.NoError(t, b.adapter.Update(b.ctx, ref, bots.Message{Card: &done}))
	got, _ := b.fake.Task(b.app.CorpID, b.app.AgentID, m.TaskID)
	require.Equal(t, 1, got.Updates)
	require.Contains(t, wecomtest.CardText(got.Card), "已同意")

	// The send's code is used: a second update sends a new card.
	later := bots.Card{Title: "请假审批", Color: bots.ColorGrey, Note: "已撤回"}
	require.NoError(t, b.adapter.Update(b.ctx, ref, bots.Message{Card: &later}))
	msgs := b.fake.MessagesTo("LiLei")
	require.Len(t, msgs, 2)
	require.Contains(t, wecomtest.CardText(msgs[1].Card), "已撤回")
	// and the next update goes to the new card with its code.
	last := bots.Card{Title: "请假审批", Color: bots.ColorGrey, Note: "已归档"}
	require.NoError(t, b.adapter.Update(b.ctx, ref, bots.Message{Card: &last}))
	got, _ = b.fake.Task(b.app.CorpID, b.app.AgentID, msgs[1].TaskID)
	require.Equal(t, 1, got.Updates)
	require.Len(t, b.fake.MessagesTo("LiLei"), 2)
}

// TestExpiredCodeFallsBack: a code older than 72 h is not used; the card
// is sent again.
func TestExpiredCodeFallsBack(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	now := time.Now()
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	b := setup(t, setupOpts{clock: clock, fakeOpts: []wecomtest.Option{wecomtest.WithClock(clock)}})
	card := bots.Card{Title: "审批", Buttons: []bots.Button{{Label: "同意", Action: "approve"}}}
	ref, _ := b.sendCard(t, "LiLei", card, "")
	mu.Lock()
	now = now.Add(73 * time.Hour)
	mu.Unlock()
	done := bots.Card{Title: "审批", Note: "已过期的卡片已更新"}
	require.NoError(t, b.adapter.Update(b.ctx, ref, bots.Message{Card: &done}))
	msgs := b.fake.MessagesTo("LiLei")
	require.Len(t, msgs, 2, "a new message replaces the card whose code expired")
	shown, err := json.Marshal(msgs[1].Card)
	require.NoError(t, err)
	require.Contains(t, string(shown), "The card above is out of date", "the new card says why it came")
	require.Contains(t, string(shown), "上面的卡片已过期")
}

func TestUpdateOfTextIsGone(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{})
	ref, err := b.adapter.Send(b.ctx, bots.Recipient{UserID: "u1"}, bots.Message{Text: "hi"}, "")
	require.NoError(t, err)
	c := bots.Card{Title: "x"}
	require.ErrorIs(t, b.adapter.Update(b.ctx, ref, bots.Message{Card: &c}), bots.ErrMessageGone)
}

// TestRateLimitAndServerErrorsRetried: WeCom's "try later" answers
// (errcode 45009 in an HTTP 200, or a 5xx) are retried with backoff; the
// message is shown once. A limit that outlasts the attempts is an error
// for the notifier to retry later, and nothing was shown.
func TestRateLimitAndServerErrorsRetried(t *testing.T) {
	t.Parallel()
	card := bots.Card{Title: "Expense", Buttons: []bots.Button{{Label: "Approve", Action: "approve"}}}
	tests := []struct {
		name    string
		msg     bots.Message
		fault   func(f *wecomtest.Server, n int)
		n       int
		shown   int
		wantErr bool
	}{
		{"text after two 45009", bots.Message{Text: "hi"}, func(f *wecomtest.Server, n int) { f.RateLimitNext("/cgi-bin/message/send", n) }, 2, 1, false},
		{"card after two 45009", bots.Message{Card: &card}, func(f *wecomtest.Server, n int) { f.RateLimitNext("/cgi-bin/message/send", n) }, 2, 1, false},
		{"card after three 500", bots.Message{Card: &card}, func(f *wecomtest.Server, n int) { f.FailNext("/cgi-bin/message/send", n) }, 3, 1, false},
		{"45009 past the attempts", bots.Message{Text: "hi"}, func(f *wecomtest.Server, n int) { f.RateLimitNext("/cgi-bin/message/send", n) }, 100, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, setupOpts{})
			tt.fault(b.fake, tt.n)
			_, err := b.adapter.Send(b.ctx, bots.Recipient{UserID: "u1"}, tt.msg, "k1")
			if tt.wantErr {
				var apiErr *wecom.APIError
				require.ErrorAs(t, err, &apiErr)
				require.Equal(t, 45009, apiErr.ErrCode)
			} else {
				require.NoError(t, err)
			}
			require.Len(t, b.fake.MessagesTo("u1"), tt.shown)
		})
	}
}
