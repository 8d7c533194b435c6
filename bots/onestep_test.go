package bots_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/flows"
)

// Defect 4: when the last step that applies is approved, the applicant is
// told once that the request is approved, never "on to the next step".
func TestLastApplyingStepSaysApprovedOnce(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		days int
		want []flows.MsgKind
	}{
		{"hr step skipped: the manager is the last", 2, []flows.MsgKind{flows.MsgApproved}},
		{"hr step applies: on to hr", 5, []flows.MsgKind{flows.MsgProgress}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			out := b.submit(t, "dev1", tc.days)
			out, err := b.engine.Decide(b.ctx, flows.DecideRequest{Actor: "cto", TaskID: pendingTask(t, out, "cto").ID, Approve: true})
			require.NoError(t, err)
			var got []flows.MsgKind
			for _, m := range out.Outbox {
				if m.Recipient == "dev1" {
					got = append(got, m.Kind)
				}
			}
			require.Equal(t, tc.want, got)
		})
	}
}
