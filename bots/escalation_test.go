package bots_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/flows"
)

// Defect 10: the person a task is escalated to gets what they can do:
// urge, transfer to someone else, comment, and approve on the approver's
// behalf where the flow allows it.
func TestEscalationTargetGetsActions(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		decides bool
		want    []string
	}{
		{"flow lets them decide", true, []string{"approve", "reject", "urge", "transfer", "comment"}},
		{"flow does not", false, []string{"urge", "transfer", "comment"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			dl := "deadline:\n  escalate_after: 24h\n"
			if tc.decides {
				dl += "  escalation_decides: true\n"
			}
			src := strings.Replace(leaveYAML, "fields:", dl+"calendar: calendar\nfields:", 1)
			_, _, err := b.engine.PublishFlow(b.ctx, "leave.yaml", []byte(src))
			require.NoError(t, err)
			out := b.submit(t, "dev1", 2)
			task := pendingTask(t, out, "cto")
			_, err = b.engine.Tick(b.ctx, b.clock.Add(25*time.Hour))
			require.NoError(t, err)

			v, err := b.engine.View(b.ctx, out.Instance.ID)
			require.NoError(t, err)
			ceo, err := b.db.User(b.ctx, "ceo")
			require.NoError(t, err)
			c := b.bot.TaskCard(v, findTaskIn(v, task.ID), ceo)
			require.Equal(t, tc.want, actions(c))
			require.Contains(t, c.Markdown, "已超时未处理")

			// A stranger's click is refused; the target's clicks work.
			rep := b.click(t, "fin1", button(t, c, "transfer"), map[string]string{"user": "hr1", "comment": "x"})
			require.NotEmpty(t, rep.Toast)
			require.Equal(t, "cto", findTaskIn(mustView(t, b, out), task.ID).Assignee)

			rep = b.click(t, "ceo", button(t, c, "comment"), map[string]string{"comment": "请尽快处理"})
			require.Contains(t, rep.Toast, "评论")
			rep = b.click(t, "ceo", button(t, c, "urge"), nil)
			require.Equal(t, "已催办审批人", rep.Toast)

			if tc.decides {
				rep = b.click(t, "ceo", button(t, c, "approve"), nil)
				require.Equal(t, "已同意", rep.Toast, "approved on cto's behalf")
				v := mustView(t, b, out)
				require.Equal(t, flows.StatusApproved, v.Instance.Status)
				return
			}
			// Not allowed to decide: the engine says no even to a forged click.
			_, err = b.engine.Decide(b.ctx, flows.DecideRequest{Actor: "ceo", TaskID: task.ID, Approve: true})
			require.Equal(t, flows.CodeForbidden, flows.ErrorCode(err))
			rep = b.click(t, "ceo", button(t, c, "transfer"), map[string]string{"user": "hr1", "comment": "李雷出差，请刘人事处理"})
			require.Contains(t, rep.Toast, "刘人事")
			v = mustView(t, b, out)
			require.NotNil(t, pendingIn(v, "hr1"), "hr1 has the task now")
		})
	}
}

func mustView(t *testing.T, b *bundle, out *flows.Outcome) *flows.View {
	t.Helper()
	v, err := b.engine.View(b.ctx, out.Instance.ID)
	require.NoError(t, err)
	return v
}

func pendingIn(v *flows.View, who string) *flows.Task {
	for _, x := range v.Tasks {
		if x.Assignee == who && x.Status == flows.TaskPending {
			return x
		}
	}
	return nil
}
