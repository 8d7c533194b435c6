package postgres_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/flows"
	"github.com/flowbot/flowbot/flows/flowstest"
	"github.com/flowbot/flowbot/store/postgres"
)

func TestConformance(t *testing.T) {
	t.Parallel()
	flowstest.Run(t, func(t *testing.T) flows.Store { return mustOpen(t) })
}

var t0 = time.Date(2026, 11, 26, 10, 0, 0, 123_000_000, time.UTC)

func newInstance(number string) *flows.Instance {
	return &flows.Instance{Number: number, FlowID: "leave", FlowVersion: 1, Applicant: "u1",
		Status: flows.StatusPending, Form: json.RawMessage(`{"days":3}`), StepIndex: 0, StepID: "manager",
		CreatedAt: t0, UpdatedAt: t0}
}

// TestUpdateInstanceConflict: two transactions read rev 1 of the same
// instance; the first write wins, the second gets ErrConflict and writes
// nothing (its whole transaction rolls back).
func TestUpdateInstanceConflict(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	db := mustOpen(t)
	in := newInstance("LEAVE-1")
	require.NoError(t, db.Update(ctx, func(tx flows.Tx) error { return tx.CreateInstance(in) }))
	require.Equal(t, int64(1), in.Rev)

	a, b := *in, *in
	a.Status, b.Status = flows.StatusApproved, flows.StatusRejected
	require.NoError(t, db.Update(ctx, func(tx flows.Tx) error { return tx.UpdateInstance(&a) }))
	require.Equal(t, int64(2), a.Rev)

	err := db.Update(ctx, func(tx flows.Tx) error {
		if err := tx.AppendEvent(&flows.Event{InstanceID: in.ID, FlowID: "leave", Type: flows.EvRejected, Actor: "u2", At: t0}); err != nil {
			return err
		}
		return tx.UpdateInstance(&b)
	})
	require.ErrorIs(t, err, flows.ErrConflict)
	require.Equal(t, int64(1), b.Rev, "a lost update must not bump Rev")

	var got *flows.Instance
	var events []*flows.Event
	require.NoError(t, db.View(ctx, func(tx flows.Tx) error {
		var err error
		if got, err = tx.Instance(in.ID); err != nil {
			return err
		}
		events, err = tx.EventsOf(in.ID)
		return err
	}))
	require.Equal(t, flows.StatusApproved, got.Status)
	require.Equal(t, int64(2), got.Rev)
	require.Empty(t, events, "the losing transaction's event must be rolled back")

	ghost := newInstance("LEAVE-X")
	ghost.ID, ghost.Rev = in.ID+1000, 1
	err = db.Update(ctx, func(tx flows.Tx) error { return tx.UpdateInstance(ghost) })
	require.ErrorIs(t, err, flows.ErrNotFound)
}

// TestConcurrentDecisions: 10 goroutines race to update one instance from
// the same rev; exactly one wins.
func TestConcurrentDecisions(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	db := mustOpen(t)
	in := newInstance("LEAVE-2")
	require.NoError(t, db.Update(ctx, func(tx flows.Tx) error { return tx.CreateInstance(in) }))
	const n = 10
	var wg sync.WaitGroup
	errs := make([]error, n)
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			errs[i] = db.Update(ctx, func(tx flows.Tx) error {
				cur, err := tx.Instance(in.ID)
				if err != nil {
					return err
				}
				if cur.Rev != 1 {
					return fmt.Errorf("saw rev %d: %w", cur.Rev, flows.ErrConflict)
				}
				cur.StepID = fmt.Sprintf("by-%d", i)
				return tx.UpdateInstance(cur)
			})
		})
	}
	close(start)
	wg.Wait()
	wins := 0
	for _, err := range errs {
		if err == nil {
			wins++
			continue
		}
		require.ErrorIs(t, err, flows.ErrConflict)
	}
	require.Equal(t, 1, wins, "got %d winners, want exactly 1", wins)
}

// TestClaimOutboxTwoPools: two stores (two pools, as two replicas) claim
// concurrently; every message is handed out exactly once within its lease.
func TestClaimOutboxTwoPools(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	schema := newSchema(t)
	a, b := openIn(t, schema), openIn(t, schema)
	const total = 300
	require.NoError(t, a.Update(ctx, func(tx flows.Tx) error {
		for i := range total {
			m := &flows.OutboxMessage{Kind: flows.MsgTask, Recipient: "u1", InstanceID: int64(i + 1),
				NextAt: t0.Add(-time.Duration(total-i) * time.Second), CreatedAt: t0}
			if err := tx.Enqueue(m); err != nil {
				return err
			}
		}
		return nil
	}))

	var (
		mu   sync.Mutex
		seen = map[int64]int{}
		wg   sync.WaitGroup
	)
	for w := range 8 {
		s := a
		if w%2 == 1 {
			s = b
		}
		wg.Go(func() {
			for {
				got, err := s.ClaimOutbox(ctx, t0, 7, time.Hour)
				if err != nil {
					t.Errorf("claim: %v", err)
					return
				}
				if len(got) == 0 {
					return
				}
				mu.Lock()
				for _, m := range got {
					seen[m.ID]++
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	require.Len(t, seen, total, "every message claimed")
	for id, n := range seen {
		require.Equalf(t, 1, n, "message %d claimed %d times within its lease", id, n)
	}
	// After the lease, they are claimable again, oldest first.
	again, err := b.ClaimOutbox(ctx, t0.Add(time.Hour+time.Second), 3, time.Minute)
	require.NoError(t, err)
	require.Len(t, again, 3)
	require.True(t, again[0].ID < again[1].ID && again[1].ID < again[2].ID, "oldest first")
}

// TestMigrateConcurrently: replicas opening an empty schema at once all
// succeed and the migrations are recorded once.
func TestMigrateConcurrently(t *testing.T) {
	t.Parallel()
	schema := newSchema(t)
	var wg sync.WaitGroup
	errs := make([]error, 4)
	dbs := make([]*postgres.DB, 4)
	for i := range dbs {
		wg.Go(func() {
			dbs[i], errs[i] = postgres.OpenConfig(t.Context(), poolConfig(t, schema), nil)
		})
	}
	wg.Wait()
	for i, err := range errs {
		require.NoError(t, err, "replica %d", i)
		t.Cleanup(func() { _ = dbs[i].Close() })
	}
	require.NoError(t, dbs[0].Migrate(t.Context()), "Migrate again is a no-op")
	pool, err := pgxpool.NewWithConfig(t.Context(), poolConfig(t, schema))
	require.NoError(t, err)
	defer pool.Close()
	var n, distinct int
	require.NoError(t, pool.QueryRow(t.Context(), `SELECT count(*), count(DISTINCT version) FROM schema_migrations`).Scan(&n, &distinct))
	require.Equal(t, distinct, n)
	require.Positive(t, n)
	// The store works.
	v, created, err := dbs[1].SaveFlow(t.Context(), "leave", []byte("id: leave"), "h1")
	require.NoError(t, err)
	require.True(t, created)
	require.Equal(t, 1, v)
}

func TestTimesAreUTCMilliseconds(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	db := mustOpen(t)
	cst := time.FixedZone("CST", 8*3600)
	in := newInstance("LEAVE-3")
	in.CreatedAt = time.Date(2026, 11, 26, 18, 0, 0, 123_456_789, cst)
	require.NoError(t, db.Update(ctx, func(tx flows.Tx) error { return tx.CreateInstance(in) }))
	var got *flows.Instance
	require.NoError(t, db.View(ctx, func(tx flows.Tx) error {
		var err error
		got, err = tx.Instance(in.ID)
		return err
	}))
	require.Equal(t, time.UTC, got.CreatedAt.Location())
	require.True(t, got.CreatedAt.Equal(time.Date(2026, 11, 26, 10, 0, 0, 123_000_000, time.UTC)), "got %s", got.CreatedAt)
}

func TestViewRefusesWrites(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	db := mustOpen(t)
	err := db.View(ctx, func(tx flows.Tx) error { return tx.CreateInstance(newInstance("LEAVE-4")) })
	require.ErrorContains(t, err, "read-only")
	got, err := db.Instances(ctx, flows.InstanceFilter{})
	require.NoError(t, err)
	require.Empty(t, got)
}

func TestBadInput(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	db := mustOpen(t)
	cases := []struct {
		name string
		call func() error
		want string
	}{
		{"nil instance", func() error {
			return db.Update(ctx, func(tx flows.Tx) error { return tx.CreateInstance(nil) })
		}, "nil instance"},
		{"empty sequence key", func() error {
			return db.Update(ctx, func(tx flows.Tx) error { _, err := tx.NextNumber(""); return err })
		}, "empty key"},
		{"enqueue without kind", func() error {
			return db.Update(ctx, func(tx flows.Tx) error { return tx.Enqueue(&flows.OutboxMessage{}) })
		}, "without kind"},
		{"zero lease", func() error { _, err := db.ClaimOutbox(ctx, t0, 1, 0); return err }, "lease must be positive"},
		{"negative limit", func() error { _, err := db.Instances(ctx, flows.InstanceFilter{Limit: -1}); return err }, "negative limit"},
		{"unknown outbox status", func() error { _, err := db.Outbox(ctx, "lost", 1); return err }, "unknown status"},
		{"empty flow id", func() error { _, _, err := db.SaveFlow(ctx, "", nil, "h"); return err }, "empty id"},
		{"nil user", func() error { return db.ReplaceDirectory(ctx, []*flows.User{nil}, nil) }, "has no id"},
		{"nil ref", func() error { return db.SaveMessageRef(ctx, nil) }, "nil ref"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			require.ErrorContains(t, tc.call(), tc.want)
		})
	}
	// Nothing was written.
	got, err := db.Instances(ctx, flows.InstanceFilter{})
	require.NoError(t, err)
	require.Empty(t, got)
}

func TestOpenBadURL(t *testing.T) {
	t.Parallel()
	_, err := postgres.Open(t.Context(), "postgres://%zz")
	require.ErrorContains(t, err, "parse url")
	_, err = postgres.OpenConfig(t.Context(), nil, nil)
	require.Error(t, err)
}

// TestDatabaseDown: a closed port fails Open and Ping fast, with no panic.
func TestDatabaseDown(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())

	start := time.Now()
	_, err = postgres.Open(t.Context(), "postgres://postgres@"+addr+"/test?sslmode=disable")
	require.Error(t, err)
	require.Less(t, time.Since(start), 3*time.Second, "Open against a closed port must fail fast")

	// A server that accepts but never answers: the connect timeout bounds it.
	hang, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer hang.Close()
	go func() {
		for {
			c, err := hang.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	start = time.Now()
	_, err = postgres.Open(t.Context(), "postgres://postgres@"+hang.Addr().String()+"/test?sslmode=disable")
	require.Error(t, err)
	require.Less(t, time.Since(start), 4*time.Second, "Open against a silent server must give up after the connect timeout")
}

// TestPingAndCancel: Ping works on a live store, and a cancelled context
// gives the context's error.
func TestPingAndCancel(t *testing.T) {
	t.Parallel()
	db := mustOpen(t)
	require.NoError(t, db.Ping(t.Context()))
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	err := db.Update(ctx, func(tx flows.Tx) error { return nil })
	require.True(t, errors.Is(err, context.Canceled), "got %v, want context.Canceled", err)
}
