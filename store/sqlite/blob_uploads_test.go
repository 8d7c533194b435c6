package sqlite_test

import (
	"path/filepath"
	"testing"

	"github.com/flowbot/flowbot/blobs"
	"github.com/flowbot/flowbot/bots/notify"
	"github.com/flowbot/flowbot/internal/testkit"
	"github.com/flowbot/flowbot/store/internal/storetest"
	"github.com/flowbot/flowbot/store/sqlite"
)

var (
	_ blobs.Ledger            = (*sqlite.DB)(nil)
	_ notify.DeliveryRecorder = (*sqlite.DB)(nil)
)

func TestBlobLedger(t *testing.T) {
	t.Parallel()
	storetest.Ledger(t, testkit.OpenSQLiteFile(t, filepath.Join(t.TempDir(), "ledger.db")))
}

func TestMarkDeliveredWithRefs(t *testing.T) {
	t.Parallel()
	storetest.MarkDeliveredWithRefs(t, testkit.OpenSQLiteFile(t, filepath.Join(t.TempDir(), "flowbot.db")))
}
