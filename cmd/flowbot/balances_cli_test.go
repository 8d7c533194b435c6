package main

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/flows"
	"github.com/flowbot/flowbot/internal/testkit"
)

func balancesOf(t *testing.T, dbPath string) map[string]float64 {
	t.Helper()
	db := testkit.OpenSQLiteFile(t, dbPath)
	defer db.Close()
	bs, err := db.Balances(context.Background(), flows.BalanceFilter{})
	require.NoError(t, err)
	out := map[string]float64{}
	for _, b := range bs {
		out[b.User+"/"+b.Type] = b.Left()
	}
	return out
}

func TestDirectoryImportBalances(t *testing.T) {
	t.Parallel()
	cfg, db := sqliteConfig(t, t.TempDir())
	org, users, _ := exampleOrg(t)
	out, _, err := runCLI(t, "directory", "import", org, "--config", cfg)
	require.NoError(t, err)
	require.Contains(t, out, "imported 12 leave balances")
	got := balancesOf(t, db)
	require.Len(t, got, len(users))
	require.Equal(t, 2.0, got["zhangwei/annual"], "total 5, used 3")
	db2 := testkit.OpenSQLiteFile(t, db)
	bs, err := db2.Balances(context.Background(), flows.BalanceFilter{User: "lilei"})
	require.NoError(t, err)
	require.NoError(t, db2.Close())
	require.Equal(t, time.Now().Year(), bs[0].Year, "no year in the file: this year")

	// A file with one bad balance imports nothing, users included.
	bad := filepath.Join(t.TempDir(), "org.yaml")
	require.NoError(t, os.WriteFile(bad, []byte(`
departments:
  - {id: d, name: D}
users:
  - {id: solo, name: Solo, dept: d}
balances:
  - {user: solo, type: annual, total: 5}
  - {user: ghost, type: annual, total: 5}
`), 0o600))
	_, _, err = runCLI(t, "directory", "import", bad, "--config", cfg)
	require.ErrorContains(t, err, `org.yaml:8: balance: user "ghost" is not in the directory`)
	gotUsers, _ := directoryOf(t, db)
	require.Equal(t, users, gotUsers, "a refused file changes nothing")
	require.Equal(t, got, balancesOf(t, db))
}
