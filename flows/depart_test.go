package flows_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/flows"
)

const fallbackYAML = `
id: fb
name: {zh: 兜底, en: Fallback}
steps:
  - id: manager
    name: {zh: 上级, en: Manager}
    approvers: [{manager: 1}]
    on_empty: fallback
    fallback: [{role: hr}]
  - id: cfo
    name: {zh: CFO, en: CFO}
    approvers: [{role: cfo}]
`

// markDeparted rewrites the directory with id departed (as a sync does).
func (b *bundle) markDeparted(t *testing.T, id string) {
	t.Helper()
	us, err := b.store.Users(b.ctx)
	require.NoError(t, err)
	ds, err := b.store.Departments(b.ctx)
	require.NoError(t, err)
	for _, u := range us {
		if u.ID == id {
			u.Departed, u.Platforms = true, nil
		}
	}
	require.NoError(t, b.store.ReplaceDirectory(b.ctx, us, ds))
}

func openTasksOf(t *testing.T, b *bundle, inID int64) map[string]*flows.Task {
	t.Helper()
	ts, err := b.store.Tasks(b.ctx, flows.TaskFilter{InstanceID: inID})
	require.NoError(t, err)
	m := map[string]*flows.Task{}
	for _, x := range ts {
		if x.Open() {
			m[x.Assignee] = x
		}
	}
	return m
}

func TestDepart(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		flow      string
		applicant string
		vals      map[string]any
		departs   string
		wantOpen  []string // assignees of open tasks afterwards
		moved     int
		cancelled int
	}{
		// dev1's manager cto leaves: the fallback (hr) takes the task.
		{"FallbackTakesTheTask", "fb", "dev1", nil, "cto", []string{"hr1"}, 1, 0},
		// Skip policy: the manager step is skipped and the request moves on.
		{"SkipMovesOn", "expense", "dev1", map[string]any{"amount": 6000}, "cto", []string{"fin1", "fin2"}, 0, 1},
		// Sequence: the next approver's turn comes.
		{"SequenceNextTurn", "seq", "dev1", map[string]any{"note": "x"}, "cto", []string{"cfo"}, 0, 1},
		// Someone with no open task: nothing changes.
		{"NothingOpen", "expense", "dev1", map[string]any{"amount": 6000}, "fin1", []string{"cto"}, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			_, _, err := b.engine.PublishFlow(b.ctx, "fb.yaml", []byte(fallbackYAML))
			require.NoError(t, err)
			out := b.submit(t, tt.applicant, tt.flow, tt.vals)
			b.markDeparted(t, tt.departs)
			res, err := b.engine.Depart(b.ctx, tt.departs)
			require.NoError(t, err)
			require.Len(t, res.Moved, tt.moved)
			require.Len(t, res.Cancelled, tt.cancelled)
			open := openTasksOf(t, b, out.Instance.ID)
			var got []string
			for a := range open {
				got = append(got, a)
			}
			require.ElementsMatch(t, tt.wantOpen, got)
			msgs, err := b.store.Outbox(b.ctx, flows.OutboxPending, 100)
			require.NoError(t, err)
			told := false
			for _, m := range msgs {
				if m.Kind == flows.MsgText && m.Recipient == "ceo" {
					told = true
				}
			}
			require.Equal(t, tt.moved+tt.cancelled > 0, told, "the admin (ceo) is told exactly when tasks were routed")
			// A second run finds nothing left to route.
			again, err := b.engine.Depart(b.ctx, tt.departs)
			require.NoError(t, err)
			require.Empty(t, again.Moved)
			require.Empty(t, again.Cancelled)
		})
	}
}

func TestDepartedUserIsNoApprover(t *testing.T) {
	t.Parallel()
	b := setup(t)
	_, _, err := b.engine.PublishFlow(b.ctx, "fb.yaml", []byte(fallbackYAML))
	require.NoError(t, err)
	b.markDeparted(t, "cto")
	out := b.submit(t, "dev1", "fb", nil)
	got := pending(out)
	require.Contains(t, got, "hr1", "a departed manager is nobody: the fallback decides")
	require.NotContains(t, got, "cto")
}

func TestDepartBadUser(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for _, u := range []string{"", flows.System} {
		_, err := b.engine.Depart(b.ctx, u)
		require.Error(t, err)
	}
}
