package postgres_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/flows/flowstest"
	"github.com/flowbot/flowbot/store/postgres"
)

// BenchmarkEngineCycles measures submit + approve cycles of the engine on
// the local PostgreSQL with 16 concurrent callers and a pool of 16
// connections.
//
//	go test ./store/postgres -run '^$' -bench EngineCycles -benchtime 10000x
func BenchmarkEngineCycles(b *testing.B) {
	cfg := poolConfig(b, newSchema(b))
	cfg.MaxConns = 16
	db, err := postgres.OpenConfig(context.Background(), cfg, nil)
	require.NoError(b, err)
	b.Cleanup(func() { _ = db.Close() })
	flowstest.BenchCycles(b, db, 16)
}
