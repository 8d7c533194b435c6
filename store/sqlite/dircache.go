package sqlite

import (
	"context"
)

// The users read by id and by platform id are kept in a dircache.Cache
// (UserByPlatform too: one read per inbound event otherwise). It is emptied at once
// when this DB replaces the directory. A directory replaced by another
// process on the same file (`flowbot directory import` while `flowbot
// serve` runs) is noticed through a stamp in the sequences table that
// ReplaceDirectory bumps in its transaction. A new method that writes
// users must call bumpDirStamp in its transaction and db.dir.Invalidate
// after it.
const dirStampKey = "\x00directory"

// bumpDirStamp records in t that the directory changed.
func bumpDirStamp(ctx context.Context, t *tx) error {
	_, err := t.exec(qNextNumber, dirStampKey)
	return err
}

// dirStamp reads the directory's stamp.
func (db *DB) dirStamp(ctx context.Context) func() (int64, error) {
	return func() (int64, error) {
		var stamp int64
		err := db.queryRow(ctx, `SELECT coalesce((SELECT value FROM sequences WHERE key = ?), 0)`, dirStampKey).Scan(&stamp)
		return stamp, err
	}
}
