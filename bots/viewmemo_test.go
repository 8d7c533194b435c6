package bots_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/bots"
	"github.com/flowbot/flowbot/flows"
)

// The copies of one card update are rendered from one read of the request
// (bots.WithViewMemo); a render under another context reads it again, so
// that no later card shows the state the memo kept.
func TestViewMemoIsOneDelivery(t *testing.T) {
	t.Parallel()
	b := setup(t)
	byID := testUsers()
	out := b.submit(t, "dev1", 5)
	task := pendingTask(t, out, "cto")
	update := &flows.OutboxMessage{Kind: flows.MsgCardUpdate, InstanceID: out.Instance.ID, TaskID: task.ID, Recipient: "cto"}

	memo := bots.WithViewMemo(b.ctx)
	before, err := b.bot.Render(memo, update, byID["cto"])
	require.NoError(t, err)
	require.NotEmpty(t, before.Card.Buttons, "the pending task card has its buttons")

	_, err = b.engine.Decide(b.ctx, flows.DecideRequest{Actor: "cto", TaskID: task.ID, Approve: true})
	require.NoError(t, err)

	tests := []struct {
		name    string
		render  func() *bots.Message
		buttons bool
	}{
		{"same delivery: the state it read", func() *bots.Message {
			msg, err := b.bot.Render(memo, update, byID["cto"])
			require.NoError(t, err)
			return &msg
		}, true},
		{"another delivery: the current state", func() *bots.Message {
			msg, err := b.bot.Render(bots.WithViewMemo(b.ctx), update, byID["cto"])
			require.NoError(t, err)
			return &msg
		}, false},
		{"no memo: the current state", func() *bots.Message {
			msg, err := b.bot.Render(b.ctx, update, byID["cto"])
			require.NoError(t, err)
			return &msg
		}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msg := tt.render()
			require.Equal(t, tt.buttons, len(msg.Card.Buttons) > 0, "buttons: %v", actions(msg.Card))
		})
	}
}
