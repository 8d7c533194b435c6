package bots_test

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/bots"
	"github.com/flowbot/flowbot/flows"
)

const ratedYAML = `
id: trip
name: {zh: 出差, en: Business trip}
satisfaction: true
fields:
  - id: city
    type: text
    label: {zh: 城市, en: City}
    required: true
steps:
  - id: manager
    name: {zh: 上级审批, en: Manager}
    approvers: [{manager: 1}]
`

// ratedSetup files a trip request for applicant and has cto decide it.
func ratedSetup(t testing.TB, approve bool) (*bundle, *flows.Outcome) {
	t.Helper()
	b := setup(t)
	_, _, err := b.engine.PublishFlow(b.ctx, "trip.yaml", []byte(ratedYAML))
	require.NoError(t, err)
	out, err := b.engine.Submit(b.ctx, flows.SubmitRequest{Actor: "dev1", FlowID: "trip", Values: map[string]any{"city": "Hangzhou"}})
	require.NoError(t, err)
	out, err = b.engine.Decide(b.ctx, flows.DecideRequest{Actor: "cto", TaskID: pendingTask(t, out, "cto").ID, Approve: approve, Comment: "ok"})
	require.NoError(t, err)
	return b, out
}

// finishedCard is the card the applicant gets when the request is done.
func finishedCard(t *testing.T, b *bundle, out *flows.Outcome, kind flows.MsgKind, to string) *bots.Card {
	t.Helper()
	u, err := b.db.User(b.ctx, to)
	require.NoError(t, err)
	msg, err := b.bot.Render(b.ctx, &flows.OutboxMessage{ID: 1, Kind: kind, InstanceID: out.Instance.ID, Data: json.RawMessage(`{}`)}, u)
	require.NoError(t, err)
	require.NotNil(t, msg.Card)
	return msg.Card
}

func rateButton(t *testing.T, c *bots.Card, score string) bots.Button {
	t.Helper()
	for _, x := range c.Buttons {
		if x.Action == "rate" && x.Value["score"] == score {
			return x
		}
	}
	t.Fatalf("no rate %s button; got %v", score, actions(c))
	return bots.Button{}
}

func ratedEvents(t testing.TB, b *bundle, id int64) []*flows.Event {
	t.Helper()
	evs, err := b.db.Events(b.ctx, flows.EventFilter{InstanceID: id, Limit: 100})
	require.NoError(t, err)
	var out []*flows.Event
	for _, e := range evs {
		if e.Type == flows.EvRated {
			out = append(out, e)
		}
	}
	return out
}

// TestRateOnTheCard: the applicant's "approved" (and "rejected") card
// asks for 1-5 with an optional comment; a click records the rating once
// and redraws the card with it; the approver's copy has no rating.
func TestRateOnTheCard(t *testing.T) {
	t.Parallel()
	for _, approve := range []bool{true, false} {
		b, out := ratedSetup(t, approve)
		kind := flows.MsgApproved
		if !approve {
			kind = flows.MsgRejected
		}
		c := finishedCard(t, b, out, kind, "dev1")
		require.Equal(t, []string{"rate", "rate", "rate", "rate", "rate"}, actions(c)[:5])
		require.LessOrEqual(t, len(c.Buttons), 6, "a card shows at most six buttons")
		require.Contains(t, cardText(c), "这次办理满意吗")
		require.Equal(t, "comment", c.Inputs[len(c.Inputs)-1].Name)
		require.NotContains(t, actions(finishedCard(t, b, out, kind, "cto")), "rate", "only the applicant rates")

		rep := b.click(t, "dev1", rateButton(t, c, "4"), map[string]string{"comment": " 很快 "})
		require.Equal(t, "谢谢你的评价", rep.Toast)
		require.Contains(t, cardText(rep.Card), "我的评价: ★★★★☆ 4/5 · 很快")
		require.NotContains(t, actions(rep.Card), "rate")
		evs := ratedEvents(t, b, out.Instance.ID)
		require.Len(t, evs, 1)
		require.JSONEq(t, `{"score":4,"comment":"很快"}`, string(evs[0].Data))
		require.Contains(t, cardText(finishedCard(t, b, out, kind, "dev1")), "★★★★☆ 4/5", "the card drawn later shows it too")
	}
}

// TestRateRefused: bad ratings get a clear answer and record nothing.
func TestRateRefused(t *testing.T) {
	t.Parallel()
	b, out := ratedSetup(t, true)
	c := finishedCard(t, b, out, flows.MsgApproved, "dev1")
	five := rateButton(t, c, "5")
	forged := func(score string) bots.Button {
		return bots.Button{Action: "rate", Value: map[string]string{"instance": five.Value["instance"], "score": score}}
	}
	tests := []struct {
		name, user string
		btn        bots.Button
		want       string
	}{
		{"score 6", "dev1", forged("6"), "评分须为 1 到 5"},
		{"score 0", "dev1", forged("0"), "评分须为 1 到 5"},
		{"score text", "dev1", forged("five"), "评分须为 1 到 5"},
		{"score missing", "dev1", bots.Button{Action: "rate", Value: map[string]string{"instance": five.Value["instance"]}}, "评分须为 1 到 5"},
		{"no request", "dev1", bots.Button{Action: "rate", Value: map[string]string{"score": "5"}}, ""},
		{"not the applicant", "cto", five, ""},
	}
	for _, tc := range tests {
		rep := b.click(t, tc.user, tc.btn, nil)
		require.NotEqual(t, "谢谢你的评价", rep.Toast, tc.name)
		require.Equal(t, bots.ToastWarning, rep.ToastKind, tc.name)
		if tc.want != "" {
			require.Contains(t, text(rep), tc.want, tc.name)
		}
		require.Empty(t, ratedEvents(t, b, out.Instance.ID), tc.name)
	}
	long := strings.Repeat("长", 501)
	rep := b.click(t, "dev1", five, map[string]string{"comment": long})
	require.Contains(t, text(rep), "评价最多 500 个字", "too long a comment")
	require.Empty(t, ratedEvents(t, b, out.Instance.ID))

	// The first rating counts; a second click on the same card is refused.
	b.click(t, "dev1", five, nil)
	rep = b.click(t, "dev1", rateButton(t, c, "1"), nil)
	require.Contains(t, text(rep), "你已经评价过这条申请了")
	evs := ratedEvents(t, b, out.Instance.ID)
	require.Len(t, evs, 1)
	require.JSONEq(t, `{"score":5,"comment":""}`, string(evs[0].Data))
}

// TestRateCommand: /rate N score [comment] for platforms without buttons.
func TestRateCommand(t *testing.T) {
	t.Parallel()
	b, out := ratedSetup(t, true)
	n := out.Instance.Number
	require.Contains(t, text(b.say(t, "dev1", "/rate "+n)), "用法：/rate 编号 分数(1-5)")
	require.Contains(t, text(b.say(t, "dev1", "/rate "+n+" 9")), "评分须为 1 到 5")
	require.Contains(t, text(b.say(t, "cto", "/rate "+n+" 3")), "申请人")
	require.Empty(t, ratedEvents(t, b, out.Instance.ID))
	got := text(b.say(t, "dev1", "/rate "+n+" 3 酒店 太远"))
	require.Contains(t, got, "谢谢你的评价")
	require.Contains(t, got, "★★★☆☆ 3/5 · 酒店 太远")
	require.Contains(t, text(b.say(t, "dev1", "/评价 "+n+" 5")), "你已经评价过这条申请了")
}

// TestRateOnlyWhereAsked: a flow without satisfaction shows no rating and
// refuses one; a pending request cannot be rated yet.
func TestRateOnlyWhereAsked(t *testing.T) {
	t.Parallel()
	b := setup(t)
	out := b.submit(t, "dev1", 2)
	require.Contains(t, text(b.say(t, "dev1", "/rate "+out.Instance.Number+" 5")), "这个流程不收集满意度评价")
	out, err := b.engine.Decide(b.ctx, flows.DecideRequest{Actor: "cto", TaskID: pendingTask(t, out, "cto").ID, Approve: true})
	require.NoError(t, err)
	require.NotContains(t, actions(finishedCard(t, b, out, flows.MsgApproved, "dev1")), "rate")

	b2, _ := ratedSetup(t, true)
	open, err := b2.engine.Submit(b2.ctx, flows.SubmitRequest{Actor: "dev1", FlowID: "trip", Values: map[string]any{"city": "Xi'an"}})
	require.NoError(t, err)
	require.Contains(t, text(b2.say(t, "dev1", "/rate "+open.Instance.Number+" 5")), "申请结束后才能评价")
	require.NotContains(t, actions(finishedCard(t, b2, open, flows.MsgSubmitted, "dev1")), "rate")
}

// FuzzRateClick: a rating click with any score and comment never panics,
// fails internally or records more than one rating, and records one only
// for a score of 1 to 5.
func FuzzRateClick(f *testing.F) {
	for _, s := range []string{"5", "0", "6", "-1", " 3 ", "4★", "1e1", "", "五", "99999999999999999999"} {
		f.Add(s, "ok")
	}
	b, out := ratedSetup(f, true)
	id := out.Instance.ID
	f.Fuzz(func(t *testing.T, score, comment string) {
		before := len(ratedEvents(t, b, id))
		ev := bots.Event{Platform: "web", ID: "fz" + score + "/" + comment, UserID: "dev1", ChatID: "dev1",
			Action: &bots.Action{Name: "rate", Value: map[string]string{"instance": strconv.FormatInt(id, 10), "score": score}, Inputs: map[string]string{"comment": comment}}}
		_, err := b.bot.Handle(b.ctx, ev)
		require.NoError(t, err)
		after := len(ratedEvents(t, b, id))
		require.LessOrEqual(t, after, 1)
		if after > before {
			n, err := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(score), "★"))
			require.NoError(t, err, "a rating was recorded for %q", score)
			require.True(t, n >= 1 && n <= 5, "score %q", score)
		}
	})
}
