package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// WAL checkpoints run off the commit path: the writer connection has
// wal_autocheckpoint off, and a goroutine with its own connection copies
// the WAL into the database file (PRAGMA wal_checkpoint(PASSIVE), which
// never blocks the writer nor readers) every checkpointEvery. When the WAL
// has grown past walTruncatePages anyway (readers kept it pinned), one
// TRUNCATE checkpoint resets it; that one waits for readers, briefly.
const (
	checkpointEvery  = 200 * time.Millisecond
	walTruncatePages = 64 << 10 // 256 MiB of 4 KiB pages
)

// checkpointLoop runs until Close.
func (db *DB) checkpointLoop(c *sql.DB) {
	defer close(db.cpdone)
	defer c.Close()
	tick := time.NewTicker(checkpointEvery)
	defer tick.Stop()
	for {
		select {
		case <-db.wstop:
			// A last PASSIVE checkpoint; SQLite checkpoints again when the
			// last connection closes.
			_, _ = db.checkpoint(c, "PASSIVE")
			return
		case <-tick.C:
			log, err := db.checkpoint(c, "PASSIVE")
			if err != nil {
				db.log.Warn("wal checkpoint", "err", err)
				continue
			}
			if log > walTruncatePages {
				if _, err := db.checkpoint(c, "TRUNCATE"); err != nil {
					db.log.Warn("wal checkpoint (truncate)", "err", err)
				}
			}
		}
	}
}

// checkpoint runs one checkpoint of mode and returns the WAL's size in pages.
func (db *DB) checkpoint(c *sql.DB, mode string) (logPages int, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var busy, done int
	if err := c.QueryRowContext(ctx, `PRAGMA wal_checkpoint(`+mode+`)`).Scan(&busy, &logPages, &done); err != nil {
		return 0, fmt.Errorf("checkpoint %s: %w", mode, err)
	}
	return logPages, nil
}
