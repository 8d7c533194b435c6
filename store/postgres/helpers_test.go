package postgres_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"
	"time"

	"github.com/flowbot/flowbot/internal/testkit"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/store/postgres"
)

// testURL is the shared test database; FLOWBOT_TEST_POSTGRES overrides it.
func testURL() string {
	if u := os.Getenv("FLOWBOT_TEST_POSTGRES"); u != "" {
		return u
	}
	return "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
}

// unavailable skips the test loudly, or fails it under CI=true.
func unavailable(tb testing.TB, format string, args ...any) {
	tb.Helper()
	testkit.Unavailable(tb, format, args...)
}

// newSchema creates an empty schema flowbot_test_<random> and drops it
// (with everything in it) when the test ends. It returns the schema name.
func newSchema(tb testing.TB) string {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, testURL())
	if err != nil {
		unavailable(tb, "postgres at %s not reachable: %v", testURL(), err)
	}
	defer conn.Close(context.Background())
	var b [6]byte
	_, err = rand.Read(b[:])
	require.NoError(tb, err)
	schema := "flowbot_test_" + hex.EncodeToString(b[:])
	_, err = conn.Exec(ctx, `CREATE SCHEMA `+schema)
	require.NoError(tb, err)
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, testURL())
		if err != nil {
			tb.Errorf("drop schema %s: %v", schema, err)
			return
		}
		defer conn.Close(context.Background())
		_, err = conn.Exec(ctx, `DROP SCHEMA `+schema+` CASCADE`)
		require.NoError(tb, err)
	})
	return schema
}

// poolConfig returns the test database's pool config using schema.
func poolConfig(tb testing.TB, schema string) *pgxpool.Config {
	tb.Helper()
	cfg, err := pgxpool.ParseConfig(testURL())
	require.NoError(tb, err)
	cfg.ConnConfig.RuntimeParams["search_path"] = schema
	cfg.MaxConns = 8
	return cfg
}

// openIn opens a store on schema (migrating it) and closes it at the end.
func openIn(tb testing.TB, schema string) *postgres.DB {
	tb.Helper()
	db, err := postgres.OpenConfig(context.Background(), poolConfig(tb, schema), nil)
	require.NoError(tb, err)
	tb.Cleanup(func() { _ = db.Close() })
	return db
}

// mustOpen opens a store on a fresh schema.
func mustOpen(tb testing.TB) *postgres.DB {
	tb.Helper()
	return openIn(tb, newSchema(tb))
}
