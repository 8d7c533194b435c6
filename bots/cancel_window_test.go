package bots_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/bots"
	"github.com/flowbot/flowbot/flows"
)

// Item 4 of issue 10: an approved leave is cancelled through the flow's
// cancel rule only until its first day begins (leave.yaml: cancel.before:
// period). Before, the card offers Cancel; from the first day on the card
// does not, and /cancel, an old Cancel button and a cancel request filed
// directly are refused in the user's language, filing nothing and giving
// nothing back.
func TestCancelOnlyBeforeTheLeaveBegins(t *testing.T) {
	t.Parallel()
	b := setupBalances(t)
	leave := approvedLeave(t, b) // 2026-12-01 ~ 2026-12-03; today is 2026-11-26
	status := lastCard(t, b.say(t, "hanmeimei", "/status "+leave.Number))
	btn := button(t, status, "cancel_request")

	b.clock.Add(5 * 24 * time.Hour) // 2026-12-01: the leave has begun
	status = lastCard(t, b.say(t, "hanmeimei", "/status "+leave.Number))
	require.NotContains(t, actions(status), "cancel_request", "no Cancel once the leave began")

	filed := func(t *testing.T) int {
		ins, err := b.db.Instances(b.ctx, flows.InstanceFilter{FlowID: "leave_cancel"})
		require.NoError(t, err)
		return len(ins)
	}
	tests := []struct {
		name string
		do   func(t *testing.T) string
		want string
	}{
		{"command zh", func(t *testing.T) string { return text(b.say(t, "hanmeimei", "/cancel "+leave.Number+" 行程取消")) },
			leave.Number + " 已于 2026-12-01 开始，开始后不能再撤销。"},
		{"old button", func(t *testing.T) string {
			rep := b.click(t, "hanmeimei", btn, nil)
			require.Equal(t, bots.ToastWarning, rep.ToastKind)
			return rep.Toast
		}, "开始后不能再撤销"},
		{"the cancel flow filed directly", func(t *testing.T) string {
			_, err := b.engine.Submit(b.ctx, flows.SubmitRequest{Actor: "hanmeimei", FlowID: "leave_cancel", Values: map[string]any{"request": leave.Number}})
			var fe *flows.Error
			require.ErrorAs(t, err, &fe)
			require.Equal(t, flows.CodeConflict, fe.Code)
			return fe.Message("en")
		}, "began on 2026-12-01; it can no longer be cancelled"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			require.Contains(t, tc.do(t), tc.want)
			require.Zero(t, filed(t), "nothing filed")
			require.Equal(t, 3.0, b.annualUsed(t, "hanmeimei"), "nothing given back")
			v, err := b.engine.View(b.ctx, leave.ID)
			require.NoError(t, err)
			require.Equal(t, flows.StatusApproved, v.Instance.Status)
		})
	}
}
