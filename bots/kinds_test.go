package bots_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/bots"
)

// Defect 17: the approver's card asks for the add-signer position with a
// select, the person with a user picker and the comment in a text area.
func TestTaskCardInputKinds(t *testing.T) {
	t.Parallel()
	b := setup(t)
	out := b.submit(t, "dev1", 2)
	task := pendingTask(t, out, "cto")
	v, err := b.engine.View(b.ctx, out.Instance.ID)
	require.NoError(t, err)
	users, _ := testOrg()
	card := b.bot.TaskCard(v, task, users[1])
	kinds := map[string]bots.Input{}
	for _, in := range card.Inputs {
		kinds[in.Name] = in
	}
	require.Equal(t, bots.InputTextarea, kinds["comment"].Kind)
	require.Equal(t, bots.InputUser, kinds["user"].Kind)
	pos := kinds["position"]
	require.Equal(t, bots.InputSelect, pos.Kind)
	require.Equal(t, "before", pos.Value, "before is the default")
	var values []string
	for _, o := range pos.Options {
		values = append(values, o.Value)
		require.NotEmpty(t, o.Label)
	}
	require.Equal(t, []string{"before", "after", "alongside"}, values)
}

// A user picker sends the person's id on the platform (a Feishu open_id):
// the transfer finds that person in the directory.
func TestTransferToPickedPlatformUser(t *testing.T) {
	t.Parallel()
	b := setup(t)
	users, depts := testOrg()
	users[4].Platforms = map[string]string{"feishu:cli_a": "ou_hr1"}
	require.NoError(t, b.db.ReplaceDirectory(b.ctx, users, depts))
	out := b.submit(t, "dev1", 2)
	task := pendingTask(t, out, "cto")
	rep := b.click(t, "cto", taskButton("transfer", task), map[string]string{"user": "ou_hr1", "comment": "出差"})
	require.Equal(t, "已转交给 刘人事", rep.Toast)
}
