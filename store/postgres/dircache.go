package postgres

import (
	"github.com/jackc/pgx/v5"
)

// The users read by id and by platform id are kept in a dircache.Cache
// (UserByPlatform: one read per inbound event otherwise), because every engine
// operation looks up its applicant and approvers several times (three
// statements of a submit + approve cycle without it).
//
// It is emptied at once when this DB replaces the directory. A directory
// replaced by another replica (or `flowbot directory import` while
// `flowbot serve` runs) is noticed through a stamp in the sequences table
// that ReplaceDirectory bumps in its transaction. A new method that writes
// users must bump the stamp in its transaction and call
// db.dir.Invalidate after it.
const (
	dirStampKey = "\x01directory" // no request number starts with a control character
	qDirStamp   = `SELECT coalesce((SELECT value FROM sequences WHERE key = $1), 0)`
	qBumpStamp  = `INSERT INTO sequences (key, value) VALUES ($1, 1) ON CONFLICT (key) DO UPDATE SET value = sequences.value + 1`
)

// dirStamp reads the directory's stamp with read (a connection's or a
// transaction's QueryRow).
func dirStamp(read func(q string, args ...any) pgx.Row) func() (int64, error) {
	return func() (int64, error) {
		var stamp int64
		err := read(qDirStamp, dirStampKey).Scan(&stamp)
		return stamp, err
	}
}
