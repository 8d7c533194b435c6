package dingtalk_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/adapters/dingtalk"
	"github.com/flowbot/flowbot/adapters/dingtalk/dingtalktest"
	"github.com/flowbot/flowbot/bots"
)

// TestGroupCardAndClick: a card delivered into a group, clicked there;
// the event names the group.
func TestGroupCardAndClick(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{})
	c := bots.Card{Title: "group card", Buttons: []bots.Button{{Label: "ok", Action: "approve", Value: map[string]string{"task": "3"}}}}
	ref, err := b.adapter.Send(context.Background(), bots.Recipient{Platform: dingtalk.Platform, ChatID: "cidGroup1"}, bots.Message{Card: &c}, "g-1")
	require.NoError(t, err)
	sent := b.fake.Sent()
	require.Len(t, sent, 1)
	require.Equal(t, "cidGroup1", sent[0].ChatID)
	require.Equal(t, b.app.Key+"/"+sent[0].Card, ref)
	_, _, err = b.fake.ClickStream(b.app.Key, dingtalktest.Click{OutTrackID: sent[0].Card, UserID: "u9"})
	require.NoError(t, err)
	evs := b.rec.Events()
	require.Len(t, evs, 1)
	require.Equal(t, "group", evs[0].ChatType)
	require.Equal(t, "cidGroup1", evs[0].ChatID)
	require.Equal(t, "u9", evs[0].UserID)
}

// TestRedeliveredClickHandledOnce: the same card callback frame (same
// messageId) delivered three times reaches the bot once.
func TestRedeliveredClickHandledOnce(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{})
	track := b.sendCard(t, "u1", bots.Card{Title: "x", Buttons: []bots.Button{{Label: "ok", Action: "approve", Value: map[string]string{"task": "5"}}}})
	data, err := b.fake.ClickData(dingtalktest.Click{OutTrackID: track, UserID: "u1"})
	require.NoError(t, err)
	for range 3 {
		ack, err := b.fake.Callback(b.app.Key, topicCard, "click-frame-1", data)
		require.NoError(t, err)
		require.Equal(t, 200, ack.Code)
	}
	require.Len(t, b.rec.Events(), 1)
}
