package bots_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/flows"
)

// /copy N files a rejected request again as a copy, pre-filled; an open
// request or someone else's is refused with a clear word.
func TestCopyRejectedRequest(t *testing.T) {
	t.Parallel()
	b := setup(t)
	out := b.submit(t, "dev1", 2)
	_, err := b.engine.Decide(b.ctx, flows.DecideRequest{Actor: "cto", TaskID: pendingTask(t, out, "cto").ID, Approve: false, Comment: "不行"})
	require.NoError(t, err)
	open := b.submit(t, "dev1", 2)
	n := out.Instance.Number

	for _, tc := range []struct{ user, say, want string }{
		{"dev2", "/copy " + n, "is not yours"},
		{"dev1", "/copy " + open.Instance.Number, "仍在进行中"},
		{"dev1", "/copy LEAVE-0000", ""},
	} {
		rep := b.say(t, tc.user, tc.say)
		require.Empty(t, cards(rep), "%s: %q", tc.say, text(rep))
		require.Contains(t, text(rep), tc.want)
	}

	rep := b.say(t, "dev1", "/copy "+n)
	require.Contains(t, text(rep), "已按 "+n+" 复制填写")
	c := lastCard(t, rep)
	require.Contains(t, cardText(c), "年假")
	require.Contains(t, cardText(c), "family")
	rep = b.click(t, "dev1", button(t, c, "submit"), nil)
	require.Contains(t, rep.Toast, "已提交")
	ins, err := b.db.Instances(b.ctx, flows.InstanceFilter{Applicant: "dev1"})
	require.NoError(t, err)
	require.Len(t, ins, 3, "a new request; the rejected one stays as it was")

	// The rejected request's card offers the copy to its applicant.
	v, err := b.engine.View(b.ctx, out.Instance.ID)
	require.NoError(t, err)
	dev1, err := b.db.User(b.ctx, "dev1")
	require.NoError(t, err)
	btn := button(t, b.bot.RequestCard(v, dev1), "copy")
	rep = b.click(t, "dev1", btn, nil)
	require.Contains(t, cardText(lastCard(t, rep)), "family")
	rep = b.click(t, "dev2", btn, nil)
	require.Empty(t, rep.Messages)
	require.Contains(t, rep.Toast, "is not yours")
}
