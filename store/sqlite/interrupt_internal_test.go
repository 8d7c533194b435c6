package sqlite

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// A read cancelled while SQLite runs its statement interrupts the
// connection, and database/sql then closes that connection instead of
// pooling it. Its kept statements must be finalized before that close:
// a statement left behind would be finalized on a closed connection when
// the store closes (a crash) and would leak until then.
func TestInterruptedReadLeavesNoStatementBehind(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	db, err := Open(ctx, filepath.Join(t.TempDir(), "flowbot.db"), WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	require.NoError(t, err)
	// Long enough to be interrupted (a fraction of a millisecond), and bounded: an
	// interrupt that comes too early is lost and the query runs to its end.
	const slow = `WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c WHERE x < 300) SELECT count(*) FROM c`
	count := func(ctx context.Context, q string) (n int64, err error) {
		err = db.read(ctx, func(t *tx) error {
			return t.c.queryRow(ctx, q).Scan(&n)
		})
		return n, err
	}
	// The context ends at every point of the read: during the slow
	// query, and with short deadlines also during BEGIN or before it.
	// Under the race detector SQLite runs ~50 times slower: stop early
	// there rather than take a minute.
	stop := time.Now().Add(5 * time.Second)
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for g := range 4 {
		wg.Go(func() {
			for i := 0; i < 5000 && time.Now().Before(stop); i++ {
				cctx, cancel := context.WithTimeout(ctx, time.Duration((i*7+g)%80)*time.Microsecond)
				n, err := count(cctx, slow)
				cancel()
				if err == nil && n != 300 {
					errs <- fmt.Errorf("a read that was not interrupted counted %d, not 300", n)
					return
				}
				// The same through the statement cache (database/sql on
				// the same pool's connections).
				cctx, cancel = context.WithTimeout(ctx, time.Duration((i*5+g)%80)*time.Microsecond)
				err = db.queryRow(cctx, slow).Scan(&n)
				cancel()
				if err == nil && n != 300 {
					errs <- fmt.Errorf("a cached query that was not interrupted counted %d, not 300", n)
					return
				}
				if n, err := count(ctx, `SELECT count(*) FROM schema_migrations`); err != nil || n == 0 {
					errs <- fmt.Errorf("the reader pool must still answer after an interrupted read: %d, %w", n, err)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	db.rmu.Lock()
	kept := len(db.rconns)
	db.rmu.Unlock()
	require.LessOrEqual(t, kept, db.reader.Stats().OpenConnections,
		"statements are kept only for connections the pool still holds")
	require.NotPanics(t, func() {
		if err := db.Close(); err != nil && !errors.Is(err, context.Canceled) {
			t.Errorf("close: %v", err)
		}
	})
}
