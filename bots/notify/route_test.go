package notify_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/bots/notify"
	"github.com/flowbot/flowbot/flows"
)

// With OnePlatform a message goes to one platform: the preference when
// reachable there, else the first of Order.
func TestOnePlatformRouting(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name             string
		user, pref       string
		order            []string
		feishu, web      int // messages each platform shows
		permanentFailure bool
	}{
		{name: "DefaultOrder", user: "alice", feishu: 1},
		{name: "ConfiguredOrder", user: "alice", order: []string{"web", "feishu"}, web: 1},
		{name: "Preference", user: "alice", pref: "web", web: 1},
		{name: "PreferenceNotReachable", user: "alice", pref: "dingtalk", feishu: 1},
		{name: "OnlyOneAccount", user: "bob", pref: "feishu", web: 1},
		{name: "AppQualifiedKey", user: "dave", pref: "feishu", feishu: 1},
		{name: "Unreachable", user: "carol", permanentFailure: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			if tt.pref != "" {
				require.NoError(t, b.db.SetPreference(b.ctx, tt.user, tt.pref))
			}
			n := notify.New(notify.Config{Store: b.db, Renderer: b.render, Clock: b.clock.Now, Messengers: b.messengers(),
				OnePlatform: true, Prefs: b.db, Order: tt.order})
			b.enqueue(t, &flows.OutboxMessage{Kind: flows.MsgTask, Recipient: tt.user, InstanceID: 1, TaskID: 10})
			_, err := n.DrainOnce(b.ctx)
			require.NoError(t, err)
			require.Len(t, b.feishu.shownKeys(), tt.feishu, "feishu")
			require.Len(t, b.web.shownKeys(), tt.web, "web")
			failed := b.outbox(t, flows.OutboxFailed)
			require.Equal(t, tt.permanentFailure, len(failed) == 1, "got failed %v", failed)
		})
	}
}
