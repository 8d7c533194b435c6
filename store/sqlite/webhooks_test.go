package sqlite_test

import (
	"testing"

	"github.com/flowbot/flowbot/internal/testkit"
	"github.com/flowbot/flowbot/webhooks"
	"github.com/flowbot/flowbot/webhooks/webhookstest"
)

func TestWebhookStore(t *testing.T) {
	t.Parallel()
	webhookstest.Run(t, func(t *testing.T) webhooks.Store { return testkit.OpenSQLite(t).Webhooks() })
}
