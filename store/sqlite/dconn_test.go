package sqlite_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/flows"
)

// Read transactions run on the reader pool's driver connections with
// statements kept per connection: a read that panics or is cancelled must
// leave every connection usable, and Close must still succeed.
func TestReadTransactionsSurvivePanicsAndCancels(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	db, _ := MustOpen(t)
	now := time.Date(2026, 12, 6, 8, 0, 0, 0, time.UTC)
	var id int64
	require.NoError(t, db.Update(ctx, func(tx flows.Tx) error {
		in := &flows.Instance{Number: "R-1", FlowID: "leave", Applicant: "alice", Status: flows.StatusPending, CreatedAt: now, UpdatedAt: now}
		err := tx.CreateInstance(in)
		id = in.ID
		return err
	}))
	readOne := func(ctx context.Context) error {
		return db.View(ctx, func(tx flows.Tx) error {
			in, err := tx.Instance(id)
			if err == nil && in.Number != "R-1" {
				return errors.New("read the wrong request " + in.Number)
			}
			return err
		})
	}

	cases := []struct {
		name string
		run  func() error
	}{
		{"panic inside the read", func() (err error) {
			defer func() {
				if p := recover(); p != "boom" {
					err = errors.New("the panic was not re-raised to the caller")
				}
			}()
			_ = db.View(ctx, func(tx flows.Tx) error {
				if _, err := tx.Instance(id); err != nil {
					return err
				}
				panic("boom")
			})
			return nil
		}},
		{"cancelled before the read", func() error {
			cctx, cancel := context.WithCancel(ctx)
			cancel()
			if err := readOne(cctx); !errors.Is(err, context.Canceled) {
				return errors.New("a cancelled read did not fail with context.Canceled")
			}
			return nil
		}},
		{"write inside a read", func() error {
			err := db.View(ctx, func(tx flows.Tx) error {
				return tx.AppendEvent(&flows.Event{InstanceID: id, Type: flows.EvSubmitted, At: now})
			})
			if err == nil {
				return errors.New("a write in a read transaction succeeded")
			}
			return nil
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			// More times than the pool has connections, from several
			// goroutines, then plain reads on every connection.
			var wg sync.WaitGroup
			errs := make(chan error, 64)
			for range 8 {
				wg.Go(func() {
					for range 4 {
						if err := tc.run(); err != nil {
							errs <- err
						}
						if err := readOne(ctx); err != nil {
							errs <- err
						}
					}
				})
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				require.NoError(t, err)
			}
		})
	}
	require.NoError(t, db.Update(ctx, func(tx flows.Tx) error {
		return tx.AppendEvent(&flows.Event{InstanceID: id, Type: flows.EvSubmitted, At: now})
	}), "the writer must still work")
	require.NoError(t, db.Close(), "Close must finalize the kept statements and close cleanly")
}
