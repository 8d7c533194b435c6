package testkit

import (
	"context"
	"log/slog"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/store/sqlite"
)

// OpenSQLite opens a fresh SQLite store in a file of tb.TempDir(); it is
// closed when the test ends.
func OpenSQLite(tb testing.TB) *sqlite.DB {
	tb.Helper()
	return OpenSQLiteFile(tb, filepath.Join(tb.TempDir(), "flowbot.db"))
}

// OpenSQLiteFile opens (and migrates) the SQLite store at path, with a
// logger that discards the migration lines; it is closed when the test ends
// (closing it earlier is fine). Tests that reopen a store after a restart
// call it again with the same path.
func OpenSQLiteFile(tb testing.TB, path string) *sqlite.DB {
	tb.Helper()
	db, err := sqlite.Open(context.Background(), path, sqlite.WithLogger(slog.New(slog.DiscardHandler)))
	require.NoError(tb, err, "open sqlite store %s", path)
	tb.Cleanup(func() { _ = db.Close() })
	return db
}
