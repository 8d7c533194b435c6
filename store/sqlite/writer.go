package sqlite

import (
	"context"
	"errors"
	"fmt"
	"runtime"

	"github.com/flowbot/flowbot/flows"
)

// Group commit. Every write of the DB is a request to one writer goroutine,
// which owns the single writer connection. The writer begins a transaction
// (BEGIN IMMEDIATE) with the first request, runs it inside a SAVEPOINT,
// then runs every request already waiting, each inside its own savepoint,
// up to maxBatch, and commits once. A request whose function fails has its
// savepoint rolled back: its writes are gone, the others' stay. Callers are
// told the outcome only after the COMMIT returned, so an operation is never
// acknowledged before it is durable; if the COMMIT fails, every operation
// of the batch gets the error.
//
// If the transaction itself is lost in the middle of a batch (SQLite rolls
// back the whole transaction on some errors, such as an interrupted
// statement or a full disk), the operations already run in it are not
// committed: they get an error wrapping flows.ErrConflict, which makes the
// engine run them again in a new transaction.

// maxBatch bounds the operations committed together, so that one commit's
// latency stays bounded under a long queue.
const maxBatch = 64

// maxYields bounds how often the writer lets other goroutines run, before
// a COMMIT, to give callers about to hand in a write the chance to join.
const maxYields = 3

// errClosed is returned by writes after Close.
var errClosed = errors.New("sqlite store is closed")

// writeReq is one write waiting for the writer.
type writeReq struct {
	ctx      context.Context
	fn       func(t *tx) error
	err      error
	panicked any
	done     chan struct{}

	after []func() // run once its batch committed (tx.AfterCommit)

	kept  bool                   // its savepoint was released
	taker Taker                  // the Taker of its messages written claimed (handoff.go)
	taken []*flows.OutboxMessage // those messages
}

// write runs fn in a savepoint of the writer's current batch and returns
// once that batch committed (nil) or failed (the error). fn's own error is
// returned unchanged after its writes were rolled back; a panic in fn is
// re-raised here after the rollback.
func (db *DB) write(ctx context.Context, fn func(t *tx) error) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("begin write transaction: %w", err)
	}
	r := &writeReq{ctx: ctx, fn: fn, done: make(chan struct{})}
	select {
	case db.wq <- r:
	case <-ctx.Done():
		return fmt.Errorf("begin write transaction: %w", ctx.Err())
	case <-db.wstop:
		return fmt.Errorf("begin write transaction: %w", errClosed)
	}
	// Once handed over, the request may commit: wait for the batch whatever
	// ctx does, so that the answer is the truth.
	<-r.done
	if r.panicked != nil {
		panic(r.panicked)
	}
	return r.err
}

// writeLoop runs batches until Close, on the writer connection's driver
// connection (see dconn.go), which it alone uses.
func (db *DB) writeLoop() {
	defer close(db.wdone)
	err := db.wc.Raw(func(dc any) error {
		c, err := newDConn(dc)
		if err != nil {
			return err
		}
		defer func() { _ = c.close() }()
		batch := make([]*writeReq, 0, maxBatch)
		for {
			select {
			case r := <-db.wq:
				batch = db.runBatch(c, append(batch[:0], r))
				clear(batch)
			case <-db.wstop:
				return nil
			}
		}
	})
	if err == nil {
		return
	}
	db.log.Error("sqlite writer stopped", "err", err)
	for { // every write fails from now on
		select {
		case r := <-db.wq:
			r.err = fmt.Errorf("write: %w", err)
			close(r.done)
		case <-db.wstop:
			return
		}
	}
}

// runBatch runs batch[0] and whatever requests are waiting, commits, and
// tells each request its outcome. It returns the batch slice for reuse.
func (db *DB) runBatch(c *dconn, batch []*writeReq) []*writeReq {
	finish := func(rs []*writeReq) {
		for _, r := range rs {
			close(r.done)
		}
	}
	bg := context.Background()
	if _, err := c.exec(bg, `BEGIN IMMEDIATE`); err != nil {
		batch[0].err = fmt.Errorf("begin write transaction: %w", mapErr(err))
		finish(batch)
		return batch
	}
	db.checkForeign(c)
	var lost error
	committed := 0 // requests whose savepoint was released
	yields := 0
	for i := 0; ; i++ {
		r := batch[i]
		ok, fatal := db.runOne(c, r)
		if ok {
			committed++
		}
		if fatal != nil {
			lost = fatal
			break
		}
		if len(batch) == maxBatch {
			break
		}
		select {
		case next := <-db.wq:
			batch = append(batch, next)
			continue
		default:
		}
		if yields < maxYields {
			// Let the callers that are about to hand in a write do so
			// before the COMMIT: a COMMIT costs about the same for one
			// write as for many, so bigger batches pay.
			yields++
			runtime.Gosched()
			select {
			case next := <-db.wq:
				batch = append(batch, next)
				continue
			default:
			}
		}
		break
	}
	ok := false
	switch {
	case lost != nil:
		rollback(c)
		for _, r := range batch {
			if r.err == nil && r.panicked == nil {
				r.err = fmt.Errorf("write rolled back with its batch (%v): %w", lost, flows.ErrConflict)
			}
		}
	case committed == 0:
		rollback(c)
	default:
		if _, err := c.exec(bg, `COMMIT`); err != nil {
			// A failed COMMIT (SQLITE_BUSY, a full disk) may leave the
			// transaction open: end it, so that the next batch begins anew.
			rollback(c)
			for _, r := range batch {
				if r.err == nil && r.panicked == nil {
					r.err = fmt.Errorf("commit: %w", mapErr(err))
				}
			}
		} else {
			ok = true
		}
	}
	if ok {
		db.afterCommit(batch)
	}
	handOver(batch, ok)
	db.batches.Add(1)
	db.batchedOps.Add(int64(len(batch)))
	finish(batch)
	return batch
}

// WriteStats returns how many batches the writer has run and how many
// writes they held (ops/batches is the mean batch size), for benchmarks
// and tests.
func (db *DB) WriteStats() (batches, ops int64) {
	return db.batches.Load(), db.batchedOps.Load()
}

// rollback ends the writer's transaction, if one is still open (an error
// is SQLite's "no transaction is active", after it rolled back by itself).
func rollback(c *dconn) { _, _ = c.exec(context.Background(), `ROLLBACK`) }

// runOne runs r in a savepoint of the batch's transaction. ok says r's
// writes are kept; fatal is set when the transaction can no longer be used
// (it was lost).
func (db *DB) runOne(c *dconn, r *writeReq) (ok bool, fatal error) {
	if err := r.ctx.Err(); err != nil {
		r.err = fmt.Errorf("begin write transaction: %w", err)
		return false, nil
	}
	bg := context.Background()
	if _, err := c.exec(bg, `SAVEPOINT op`); err != nil {
		r.err = fmt.Errorf("begin write transaction: savepoint: %w", mapErr(err))
		return false, r.err
	}
	// Once started, an operation runs to its end whatever its caller's
	// context does: a statement interrupted by a cancelled context can make
	// SQLite roll back the whole transaction, every other write of the
	// batch with it (and a cancellable context costs the driver a goroutine
	// per statement). The caller waits for the batch anyway (see write).
	r.err = call(r, &tx{db: db, ctx: context.WithoutCancel(r.ctx), c: c, write: true, req: r})
	if r.err == nil {
		if _, err := c.exec(bg, `RELEASE op`); err != nil {
			r.err = fmt.Errorf("release savepoint: %w", mapErr(err))
			return false, r.err
		}
		r.kept = true
		return true, nil
	}
	if _, err := c.exec(bg, `ROLLBACK TO op`); err != nil {
		return false, fmt.Errorf("roll back savepoint: %w", mapErr(err))
	}
	if _, err := c.exec(bg, `RELEASE op`); err != nil {
		return false, fmt.Errorf("release savepoint: %w", mapErr(err))
	}
	return false, nil
}

// call runs r.fn, turning a panic into an error and r.panicked.
func call(r *writeReq, t *tx) (err error) {
	defer func() {
		if p := recover(); p != nil {
			r.panicked = p
			err = fmt.Errorf("write panicked: %v", p)
		}
	}()
	return r.fn(t)
}
