package bots_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/bots"
	"github.com/flowbot/flowbot/flows"
)

// Defect 6: a card that comes back with an input error keeps what was
// typed into it and keeps the urge line.
func TestRefusedCardKeepsTypedTextAndUrgeLine(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name      string
		action    string
		inputs    map[string]string
		highlight string
	}{
		{"transfer to nobody", "transfer", map[string]string{"user": "nobody", "comment": "请你处理一下，我出差"}, "user"},
		{"add signer nowhere", "add_signer", map[string]string{"user": "fin1", "comment": "财务看一下", "position": "sideways"}, "position"},
		{"reject without a reason", "reject", map[string]string{"user": "fin1"}, "comment"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			out := b.submit(t, "dev1", 2)
			_, err := b.engine.Urge(b.ctx, "dev1", out.Instance.ID)
			require.NoError(t, err)
			rep := b.click(t, "cto", taskButton(tc.action, pendingTask(t, out, "cto")), tc.inputs)
			require.Equal(t, bots.ToastWarning, rep.ToastKind, "refused: %q", rep.Toast)
			require.NotNil(t, rep.Card)
			require.Contains(t, rep.Card.Markdown, "📣", "the urge line stays")
			for _, in := range rep.Card.Inputs {
				if typed := tc.inputs[in.Name]; typed != "" {
					require.Equal(t, typed, in.Value, "input %s keeps what was typed", in.Name)
				}
				if in.Name == tc.highlight {
					require.NotEmpty(t, in.Error)
				}
			}
		})
	}
}

// The urge line is on every copy of the approver's card, and goes once
// the task is decided.
func TestUrgeLineOnTheTaskCard(t *testing.T) {
	t.Parallel()
	b := setup(t)
	out := b.submit(t, "dev1", 2)
	task := pendingTask(t, out, "cto")
	cto, err := b.db.User(b.ctx, "cto")
	require.NoError(t, err)
	v, err := b.engine.View(b.ctx, out.Instance.ID)
	require.NoError(t, err)
	require.NotContains(t, b.bot.TaskCard(v, findTaskIn(v, task.ID), cto).Markdown, "📣")
	_, err = b.engine.Urge(b.ctx, "dev1", out.Instance.ID)
	require.NoError(t, err)
	v, err = b.engine.View(b.ctx, out.Instance.ID)
	require.NoError(t, err)
	require.Contains(t, b.bot.TaskCard(v, findTaskIn(v, task.ID), cto).Markdown, "📣 韩梅梅")
	_, err = b.engine.Decide(b.ctx, flows.DecideRequest{Actor: "cto", TaskID: task.ID, Approve: true})
	require.NoError(t, err)
	v, err = b.engine.View(b.ctx, out.Instance.ID)
	require.NoError(t, err)
	require.NotContains(t, b.bot.TaskCard(v, findTaskIn(v, task.ID), cto).Markdown, "📣")
}

func findTaskIn(v *flows.View, id int64) *flows.Task {
	for _, x := range v.Tasks {
		if x.ID == id {
			return x
		}
	}
	return nil
}
