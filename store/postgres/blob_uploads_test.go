package postgres_test

import (
	"testing"

	"github.com/flowbot/flowbot/blobs"
	"github.com/flowbot/flowbot/bots/notify"
	"github.com/flowbot/flowbot/store/internal/storetest"
	"github.com/flowbot/flowbot/store/postgres"
)

var (
	_ blobs.Ledger            = (*postgres.DB)(nil)
	_ notify.DeliveryRecorder = (*postgres.DB)(nil)
)

func TestBlobLedger(t *testing.T) {
	t.Parallel()
	storetest.Ledger(t, mustOpen(t))
}

func TestMarkDeliveredWithRefs(t *testing.T) {
	t.Parallel()
	storetest.MarkDeliveredWithRefs(t, mustOpen(t))
}
