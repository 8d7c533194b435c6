package bots_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/bots"
)

// TestClicksWithoutRights: every action the bot handles on a click, by a
// user without rights on the request (張会计 clicks on 韩梅梅's leave and on
// her conversation), answers with a warning toast only: no card, no
// message, no copy of the card kept for the clicker, nothing changed.
func TestClicksWithoutRights(t *testing.T) {
	t.Parallel()
	b := setup(t)
	out := b.submit(t, "dev1", 2)
	task := pendingTask(t, out, "cto")
	inst, tid := fmt.Sprint(out.Instance.ID), fmt.Sprint(task.ID)
	summary := lastCard(t, b.say(t, "dev1", "/请假 type=annual reason=family period=2026-12-01~2026-12-02"))
	conv := button(t, summary, "submit").Value["conv"]
	require.NotEmpty(t, conv)

	tests := []struct {
		action string
		value  map[string]string
		inputs map[string]string
	}{
		{"approve", map[string]string{"task": tid}, map[string]string{"comment": "ok"}},
		{"reject", map[string]string{"task": tid}, map[string]string{"comment": "no"}},
		{"transfer", map[string]string{"task": tid}, map[string]string{"user": "hr1", "comment": "yours"}},
		{"add_signer", map[string]string{"task": tid}, map[string]string{"user": "hr1", "comment": "too"}},
		{"comment", map[string]string{"task": tid}, map[string]string{"comment": "hello"}},
		{"comment", map[string]string{"instance": inst}, map[string]string{"comment": "hello"}},
		{"withdraw", map[string]string{"instance": inst}, nil},
		{"urge", map[string]string{"instance": inst}, nil},
		{"amend", map[string]string{"instance": inst}, nil},
		{"submit", map[string]string{"conv": conv}, nil},
		{"cancel", map[string]string{"conv": conv}, nil},
		{"approve", map[string]string{"task": "x"}, nil},         // a forged button
		{"frobnicate", map[string]string{"instance": inst}, nil}, // an action the bot does not know
	}
	state := func() string {
		v, err := b.engine.View(b.ctx, out.Instance.ID)
		require.NoError(t, err)
		s := fmt.Sprintf("%s %d events;", v.Instance.Status, len(v.Events))
		for _, x := range v.Tasks {
			s += fmt.Sprintf(" %d:%s:%s", x.ID, x.Assignee, x.Status)
		}
		return s
	}
	refs := func() int {
		n := 0
		for _, taskID := range []int64{0, task.ID} {
			rs, err := b.db.MessageRefs(b.ctx, out.Instance.ID, taskID)
			require.NoError(t, err)
			for _, r := range rs {
				if r.Recipient == "fin1" {
					n++
				}
			}
		}
		return n
	}
	before := state()
	for _, tc := range tests {
		t.Run(tc.action+fmt.Sprint(tc.value), func(t *testing.T) {
			rep := b.click(t, "fin1", bots.Button{Action: tc.action, Value: tc.value}, tc.inputs)
			require.NotEmpty(t, rep.Toast)
			require.Nil(t, rep.Card, "got a card %+v, want a toast only", rep.Card)
			require.Empty(t, rep.Messages)
			require.Equal(t, bots.ToastWarning, rep.ToastKind, "toast %q", rep.Toast)
			require.Equal(t, 0, refs(), "a copy was kept for the clicker")
			require.Equal(t, before, state())
		})
	}
	// The applicant's conversation is still hers to submit.
	rep := b.click(t, "dev1", button(t, summary, "submit"), nil)
	require.Equal(t, bots.ToastKind(""), rep.ToastKind, rep.Toast)
}
