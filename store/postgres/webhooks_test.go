package postgres_test

import (
	"testing"

	"github.com/flowbot/flowbot/webhooks"
	"github.com/flowbot/flowbot/webhooks/webhookstest"
)

func TestWebhookStore(t *testing.T) {
	webhookstest.Run(t, func(t *testing.T) webhooks.Store { return mustOpen(t).Webhooks() })
}
