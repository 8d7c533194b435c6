package postgres_test

import (
	"testing"

	"github.com/flowbot/flowbot/bots"
	"github.com/flowbot/flowbot/bots/botstest"
)

// The inbox shared by replicas passes the bots.Inbox suite (concurrent
// claimers included: FOR UPDATE SKIP LOCKED).
func TestInboxConformance(t *testing.T) {
	t.Parallel()
	botstest.RunInbox(t, func(t *testing.T) bots.Inbox {
		return mustOpen(t).Inbox()
	})
}
