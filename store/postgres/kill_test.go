package postgres_test

import (
	"context"
	"fmt"
	"os"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/store/internal/killtest"
	"github.com/flowbot/flowbot/store/postgres"
)

const killChildEnv = "FLOWBOT_POSTGRES_KILL_CHILD"

// TestKillChild is the child of TestGroupCommitKill9 (killtest.Child).
// It does nothing in a normal test run.
func TestKillChild(t *testing.T) {
	schema := os.Getenv(killChildEnv)
	if schema == "" {
		t.Skip("child process of TestGroupCommitKill9")
	}
	db, err := postgres.OpenConfig(context.Background(), poolConfig(t, schema), nil)
	if err != nil {
		fmt.Println("open:", err)
		os.Exit(2)
	}
	killtest.Child(func(ctx context.Context, n string, fail bool) error { return writeOp(ctx, db, n, fail) }, errRefused, nil)
}

// TestGroupCommitKill9 runs a child process writing with 16 concurrent
// callers through the writer lanes (deferred inserts and updates
// included), kills it with SIGKILL mid-load (twice on the same schema),
// and checks that every operation the child was told had committed is
// stored whole, and that no failed operation left anything.
func TestGroupCommitKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns processes")
	}
	schema := newSchema(t)
	total := 0
	for round := range 2 {
		acked, _, _ := killtest.Kill(t, killChildEnv, schema, round, 400+round*300)
		db := openIn(t, schema)
		n := killtest.Check(t, db, acked, func(t *testing.T, name string) { checkWhole(t, db, name, true) })
		total += len(acked)
		t.Logf("round %d: %d acknowledged writes all stored; %d requests in the schema", round, len(acked), n)
	}
	require.Greater(t, total, 500)
}
