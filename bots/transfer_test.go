package bots_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/flows"
)

// Defect 1: after an add-signer before him, the approver transfers to
// someone else; his card names the transfer's target, not the signer.
func TestTransferNoteNamesTheTarget(t *testing.T) {
	t.Parallel()
	b := setup(t)
	out := b.submit(t, "dev1", 4)
	task := pendingTask(t, out, "cto")
	rep := b.click(t, "cto", taskButton("add_signer", task), map[string]string{"user": "hr1", "position": "before"})
	require.Equal(t, "已加签 刘人事", rep.Toast)
	v, err := b.engine.View(b.ctx, out.Instance.ID)
	require.NoError(t, err)
	var signer *flows.Task
	for _, x := range v.Tasks {
		if x.Assignee == "hr1" && x.Status == flows.TaskPending {
			signer = x
		}
	}
	require.NotNil(t, signer, "the signer decides first")
	b.click(t, "hr1", taskButton("approve", signer), map[string]string{"comment": "ok"})
	v, err = b.engine.View(b.ctx, out.Instance.ID)
	require.NoError(t, err)
	var mine *flows.Task
	for _, x := range v.Tasks {
		if x.Assignee == "cto" && x.Status == flows.TaskPending {
			mine = x
		}
	}
	require.NotNil(t, mine, "the approver's turn again")
	rep = b.click(t, "cto", taskButton("transfer", mine), map[string]string{"user": "王总", "comment": "出差"})
	require.Equal(t, "已转交给 王总", rep.Toast)
	require.Contains(t, rep.Card.Note, "转交给 王总", "got %q", rep.Card.Note)
	v, err = b.engine.View(b.ctx, out.Instance.ID)
	require.NoError(t, err)
	users, _ := testOrg()
	for _, x := range v.Tasks {
		if x.Assignee == "cto" && x.Status == flows.TaskTransferred {
			note := b.bot.TaskCard(v, x, users[1]).Note
			require.Contains(t, note, "转交给 王总", "got %q", note)
		}
	}
}
