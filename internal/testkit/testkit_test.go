package testkit_test

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/flows"
	"github.com/flowbot/flowbot/internal/testkit"
)

var t0 = time.Date(2026, 11, 26, 2, 0, 0, 0, time.UTC)

func TestClock(t *testing.T) {
	t.Parallel()
	c := testkit.NewClock(t0)
	require.Equal(t, t0, c.Now())
	require.Equal(t, t0.Add(time.Hour), c.Add(time.Hour))
	require.Equal(t, t0.Add(time.Hour), c.Now(), "Add moves the clock")
	c.Set(t0.Add(-time.Minute))
	require.Equal(t, t0.Add(-time.Minute), c.Now(), "Set may move it back")

	// Concurrent moves are all counted.
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() { c.Add(time.Second); _ = c.Now() })
	}
	wg.Wait()
	require.Equal(t, t0.Add(-time.Minute+50*time.Second), c.Now())
}

func TestOpenSQLite(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "kit.db")
	db := testkit.OpenSQLiteFile(t, path)
	require.NoError(t, db.ReplaceDirectory(ctx, []*flows.User{{ID: "alice", Name: "Alice"}}, nil))
	require.NoError(t, db.Close())
	_, err := os.Stat(path)
	require.NoError(t, err, "the store is a file at path")

	again := testkit.OpenSQLiteFile(t, path)
	u, err := again.User(ctx, "alice")
	require.NoError(t, err, "a reopened store keeps its data")
	require.Equal(t, "Alice", u.Name)

	fresh := testkit.OpenSQLite(t)
	users, err := fresh.Users(ctx)
	require.NoError(t, err)
	require.Empty(t, users, "each OpenSQLite is a new store")
}

func TestExamples(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := testkit.OpenSQLite(t)
	testkit.LoadExampleOrg(t, ctx, db)
	users, depts := testkit.ExampleOrg(t)
	got, err := db.Users(ctx)
	require.NoError(t, err)
	require.Len(t, got, len(users))
	require.NotEmpty(t, depts)
	u, err := db.User(ctx, "hanmeimei")
	require.NoError(t, err)
	require.Equal(t, "韩梅梅", u.Name)

	e := flows.New(flows.Config{Store: db, Clock: testkit.NewClock(t0), Calendar: testkit.ExampleCalendar(t)})
	files := testkit.PublishExampleFlows(t, ctx, e)
	defs, err := e.Flows(ctx)
	require.NoError(t, err)
	require.Len(t, defs, len(files))
	_, err = e.Definition(ctx, "leave", 0)
	require.NoError(t, err, "the example leave flow is published")
}

func TestMemState(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := testkit.NewClock(t0)
	s := testkit.NewMemState(c.Now)

	_, ok, err := s.Get(ctx, "k")
	require.NoError(t, err)
	require.False(t, ok, "missing key")

	val := []byte("v1")
	require.NoError(t, s.Set(ctx, "k", val, time.Minute))
	val[0] = 'x'
	got, ok, err := s.Get(ctx, "k")
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, []byte("v1"), got, "the store keeps a copy")

	c.Add(time.Minute)
	_, ok, err = s.Get(ctx, "k")
	require.NoError(t, err)
	require.False(t, ok, "expired on the clock")

	require.NoError(t, s.Set(ctx, "k", []byte("v2"), time.Minute))
	require.NoError(t, s.Delete(ctx, "k"))
	_, ok, err = s.Get(ctx, "k")
	require.NoError(t, err)
	require.False(t, ok, "deleted")
	require.EqualValues(t, 7, s.Calls())

	s.SetDown(true)
	_, _, err = s.Get(ctx, "k")
	require.ErrorIs(t, err, testkit.ErrStoreDown)
	require.ErrorIs(t, s.Set(ctx, "k", nil, time.Minute), testkit.ErrStoreDown)
	require.ErrorIs(t, s.Delete(ctx, "k"), testkit.ErrStoreDown)
	require.EqualValues(t, 10, s.Calls(), "failed calls count too")
	s.SetDown(false)
	_, ok, err = s.Get(ctx, "k")
	require.NoError(t, err)
	require.False(t, ok, "a failed Set wrote nothing")

	wall := testkit.NewMemState(nil)
	require.NoError(t, wall.Set(ctx, "k", []byte("v"), time.Hour))
	_, ok, err = wall.Get(ctx, "k")
	require.NoError(t, err)
	require.True(t, ok, "nil clock: the wall clock")
}

func TestMemDedupe(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := testkit.NewMemDedupe()
	var wg sync.WaitGroup
	var mu sync.Mutex
	firsts := 0
	for range 20 {
		wg.Go(func() {
			first, err := d.FirstSeen(ctx, "ev1", time.Minute)
			require.NoError(t, err)
			if first {
				mu.Lock()
				firsts++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	require.Equal(t, 1, firsts, "one of many concurrent deliveries is first")
	first, err := d.FirstSeen(ctx, "ev2", time.Minute)
	require.NoError(t, err)
	require.True(t, first, "keys are independent")

	require.NoError(t, d.Forget(ctx, "ev1"))
	first, err = d.FirstSeen(ctx, "ev1", time.Minute)
	require.NoError(t, err)
	require.True(t, first, "a forgotten key is new again")
}

func TestUnavailableRecordsSkip(t *testing.T) {
	log := filepath.Join(t.TempDir(), "skips.log")
	t.Setenv("FLOWBOT_SKIP_LOG", log)
	t.Setenv("CI", "")
	t.Run("redis", func(t *testing.T) {
		testkit.Unavailable(t, "redis at %s is down", "127.0.0.1:1")
		t.Error("Unavailable returned instead of skipping")
	})
	b, err := os.ReadFile(log)
	require.NoError(t, err)
	require.Contains(t, string(b), "internal/testkit\tTestUnavailableRecordsSkip/redis\tredis at 127.0.0.1:1 is down")
}
