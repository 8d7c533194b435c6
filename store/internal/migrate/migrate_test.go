package migrate_test

import (
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/store/internal/migrate"
)

func TestLoad(t *testing.T) {
	t.Parallel()
	ok := fstest.MapFS{
		"m/0002_more.sql": {Data: []byte("B")},
		"m/0001_init.sql": {Data: []byte("A")},
		"m/0010_late.sql": {Data: []byte("C")},
	}
	ms, err := migrate.Load(ok, "m")
	require.NoError(t, err)
	require.Equal(t, []migrate.Migration{
		{Version: 1, Name: "0001_init.sql", SQL: "A"},
		{Version: 2, Name: "0002_more.sql", SQL: "B"},
		{Version: 10, Name: "0010_late.sql", SQL: "C"},
	}, ms, "ordered by number, not by name")

	for name, fsys := range map[string]fstest.MapFS{
		"no number":   {"m/init.sql": {}},
		"zero":        {"m/0000_x.sql": {}},
		"same number": {"m/0001_a.sql": {}, "m/001_b.sql": {}},
	} {
		_, err := migrate.Load(fsys, "m")
		require.Error(t, err, name)
	}
	_, err = migrate.Load(ok, "missing")
	require.Error(t, err)
}
