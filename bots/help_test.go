package bots_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/flows"
)

// Defect 18: /help names what the cards offer (comment, transfer, add
// signer) and, for an employee, the flows they may start (and not those
// they may not).
func TestHelpListsCardActionsAndStartableFlows(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for _, tc := range []struct {
		user    string
		want    []string
		notWant []string
	}{
		{"dev1", []string{"转交", "加签", "评论", "/leave", "请假", "你可以发起的流程"}, []string{"/expense"}},
		{"dev2", []string{"transfer", "add signer", "comment", "/leave", "Flows you can start"}, []string{"/expense"}},
	} {
		out := text(b.say(t, tc.user, "/help"))
		for _, w := range tc.want {
			require.Contains(t, out, w, "%s's help: %q", tc.user, out)
		}
		for _, w := range tc.notWant {
			require.NotContains(t, out, w, "%s may not start it: %q", tc.user, out)
		}
	}
}

// Defect 18: /mine shows dates, filters by status, and each item opens.
func TestMineDatesFilterAndOpen(t *testing.T) {
	t.Parallel()
	b := setup(t)
	first := b.submit(t, "dev1", 2)
	second := b.submit(t, "dev1", 2)
	_, err := b.engine.Decide(b.ctx, flows.DecideRequest{Actor: "cto", TaskID: pendingTask(t, second, "cto").ID, Approve: true})
	require.NoError(t, err)

	c := lastCard(t, b.say(t, "dev1", "/mine"))
	out := cardText(c)
	require.Contains(t, out, "2026-11-26 10:00", "the date each was filed, in the user's zone: %q", out)
	require.Contains(t, out, first.Instance.Number)
	require.Contains(t, out, second.Instance.Number)
	require.Len(t, c.Buttons, 2, "one button per item")

	for _, tc := range []struct {
		filter      string
		has, hasNot string
	}{
		{"审批中", first.Instance.Number, second.Instance.Number},
		{"approved", second.Instance.Number, first.Instance.Number},
		{"通过", second.Instance.Number, first.Instance.Number},
	} {
		out := text(b.say(t, "dev1", "/mine "+tc.filter))
		require.Contains(t, out, tc.has, "/mine %s: %q", tc.filter, out)
		require.NotContains(t, out, tc.hasNot, "/mine %s: %q", tc.filter, out)
	}
	require.Contains(t, text(b.say(t, "dev1", "/mine 已驳回")), "没有状态为「已驳回」的申请")
	require.Contains(t, text(b.say(t, "dev1", "/mine nonsense")), "没有「nonsense」这种状态")

	// An item opens: its request card as a new message.
	var open = c.Buttons[0]
	for _, x := range c.Buttons {
		if x.Label == first.Instance.Number {
			open = x
		}
	}
	rep := b.click(t, "dev1", open, nil)
	require.Nil(t, rep.Card, "the list stays as it is")
	require.Contains(t, cardText(lastCard(t, rep)), first.Instance.Number)
	// Not someone else's.
	rep = b.click(t, "dev2", open, nil)
	require.Empty(t, rep.Messages)
	require.NotEmpty(t, rep.Toast)
}
