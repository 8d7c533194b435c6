package bots_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/bots"
	"github.com/flowbot/flowbot/flows"
)

// Defect 15 (wording): after a withdrawal the step that was waiting does
// not read as if its approver rejected it.
func TestWithdrawnRouteDoesNotReadAsRejected(t *testing.T) {
	t.Parallel()
	b := setup(t)
	out := b.submit(t, "dev1", 2)
	b.say(t, "dev1", "/withdraw "+out.Instance.Number)
	got := text(b.say(t, "dev1", "/status "+out.Instance.Number))
	require.Contains(t, got, "李雷")
	for _, line := range strings.Split(got, "\n") {
		if strings.Contains(line, "李雷") && strings.Contains(line, "上级审批") {
			require.NotContains(t, line, "✗", "got %q: reads as a rejection by 李雷", line)
			require.Contains(t, line, "撤回", "got %q", line)
		}
	}
}

// Defect 15: Withdraw on the card asks first; "No" and the question itself
// change nothing; "Yes" withdraws, and every card reads as a withdrawal by
// the applicant, not as a rejection by the approver.
func TestWithdrawAsksFirst(t *testing.T) {
	t.Parallel()
	tests := []struct {
		user, ask, yes, no, done string
	}{
		{"dev1", "确定撤回 请假", "确认撤回", "未撤回", "已撤回"},
		{"dev2", "Withdraw Leave", "Yes, withdraw it", "Not withdrawn", "Withdrawn"},
	}
	for _, tc := range tests {
		t.Run(tc.user, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			out := b.submit(t, tc.user, 2)
			v, err := b.engine.View(b.ctx, out.Instance.ID)
			require.NoError(t, err)
			rc := b.bot.RequestCard(v, mustUser(t, b, tc.user))

			rep := b.click(t, tc.user, button(t, rc, "withdraw"), nil)
			require.Contains(t, rep.Card.Markdown, tc.ask)
			require.Contains(t, cardText(rep.Card), "["+tc.yes+"]")
			require.Equal(t, []string{"withdraw", "keep"}, actions(rep.Card))
			require.Equal(t, flows.StatusPending, status(t, b, out), "asking changes nothing")

			no := b.click(t, tc.user, button(t, rep.Card, "keep"), nil)
			require.Contains(t, no.Toast, tc.no)
			require.Equal(t, []string{"urge", "withdraw"}, actions(no.Card))
			require.Equal(t, flows.StatusPending, status(t, b, out))

			// Someone else's click on Yes is refused.
			other := b.click(t, "hr1", button(t, rep.Card, "withdraw"), nil)
			require.Equal(t, bots.ToastWarning, other.ToastKind)
			require.Equal(t, flows.StatusPending, status(t, b, out))

			yes := b.click(t, tc.user, button(t, rep.Card, "withdraw"), map[string]string{"comment": "plans changed"})
			require.Equal(t, tc.done, yes.Toast)
			require.Equal(t, flows.StatusWithdrawn, status(t, b, out))
			require.NotContains(t, cardText(yes.Card), "✗")
			require.NotContains(t, cardText(yes.Card), "驳回")
			require.NotContains(t, cardText(yes.Card), "rejected")

			// The approver's card says the applicant withdrew it.
			v, err = b.engine.View(b.ctx, out.Instance.ID)
			require.NoError(t, err)
			tc2 := b.bot.TaskCard(v, v.Tasks[0], mustUser(t, b, "cto"))
			require.Contains(t, tc2.Note, "申请人已撤回") // cto reads Chinese
			require.Empty(t, tc2.Buttons)

			// A second Yes (an old confirm card) is refused: closed.
			again := b.click(t, tc.user, button(t, rep.Card, "withdraw"), nil)
			require.Equal(t, bots.ToastWarning, again.ToastKind)
		})
	}
}

func status(t *testing.T, b *bundle, out *flows.Outcome) flows.Status {
	t.Helper()
	v, err := b.engine.View(b.ctx, out.Instance.ID)
	require.NoError(t, err)
	return v.Instance.Status
}
