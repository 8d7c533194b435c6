package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/flowbot/flowbot/flows"
)

// Group commit. Update hands its function to one of a few writer lanes.
// A lane takes a pool connection, begins a transaction with the first
// waiting operation and runs every operation already waiting (up to
// maxBatch), each inside the savepoint "op", then commits once. An
// operation whose function fails has its savepoint rolled back: its writes
// are gone, the others' stay. Callers are told the outcome only after the
// COMMIT returned, so an operation is never acknowledged before it is
// durable (synchronous_commit is left as the server has it); if the COMMIT
// fails, every operation of the batch gets the error.
//
// Why: request numbers are gapless (Tx.NextNumber is a row of sequences
// updated in the transaction), so two transactions numbering the same
// flow and day run one after the other, each holding the row through its
// COMMIT and its WAL flush. In a batch, one transaction numbers many
// requests and pays one flush for all of them.
//
// If the transaction is lost in the middle of a batch (the connection
// broke, a savepoint could not be rolled back), the operations already run
// in it are not committed: they get an error wrapping flows.ErrConflict,
// which makes the engine run them again. A deadlock between two lanes
// fails the waiting statement only (40P01, flows.ErrConflict): that
// operation is rolled back to its savepoint and retried by the engine.

// maxBatch bounds the operations committed together, so that one commit's
// latency stays bounded under a long queue.
const maxBatch = 64

// DefaultWriteLanes is the number of writer lanes when WithWriteLanes is
// not given. More lanes mostly wait for each other on the sequences row
// of the flow being numbered (measured: 2–3 of 4 lanes in Lock waits), and
// each running lane holds a pool connection.
const DefaultWriteLanes = 2

// errClosed is returned by writes after Close.
var errClosed = errors.New("postgres store is closed")

// Option configures OpenConfig.
type Option func(*DB)

// WithWriteLanes sets how many transactions of grouped operations may run
// at once (each holds one pool connection while it runs). n <= 0 turns
// group commit off: every Update is its own transaction.
func WithWriteLanes(n int) Option {
	return func(db *DB) { db.lanes = max(n, 0) }
}

// writeReq is one Update waiting for a lane.
type writeReq struct {
	ctx      context.Context
	fn       func(t *tx) error
	err      error
	panicked any
	done     chan struct{}
}

// startLanes starts the writer lanes.
func (db *DB) startLanes() {
	db.wq = make(chan *writeReq)
	db.wstop = make(chan struct{})
	for range db.lanes {
		db.wg.Go(db.lane)
	}
}

// write runs fn in a savepoint of a lane's batch and returns once that
// batch committed (nil) or failed (the error). fn's own error is returned
// unchanged after its writes were rolled back; a panic in fn is re-raised
// here after the rollback.
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

// lane runs batches until Close.
func (db *DB) lane() {
	batch := make([]*writeReq, 0, maxBatch)
	d := &deferred{}
	d.reset()
	for {
		select {
		case r := <-db.wq:
			batch = db.runBatch(d, append(batch[:0], r))
			d.reset()
			clear(batch)
		case <-db.wstop:
			return
		}
	}
}

// runBatch runs batch[0] and whatever requests are waiting in one
// transaction, commits, and tells each request its outcome. It returns the
// batch slice for reuse.
func (db *DB) runBatch(d *deferred, batch []*writeReq) []*writeReq {
	defer func() {
		for _, r := range batch {
			close(r.done)
		}
	}()
	// The batch runs whatever its callers' contexts do: a statement
	// cancelled half-way would break the connection and lose the others'
	// writes. Each caller's context is checked before its turn.
	bg := context.Background()
	actx, cancel := context.WithTimeout(bg, 2*DefaultConnectTimeout)
	conn, err := db.pool.Acquire(actx)
	cancel()
	if err != nil {
		batch[0].err = fmt.Errorf("begin write transaction: acquire connection: %w", mapErr(err))
		return batch
	}
	defer conn.Release()
	// BEGIN is not sent alone: it waits in the first operation's queue
	// (deferred.begin) and goes with its first round trip.
	var lost error
	kept, open := 0, false // open: the savepoint "op" exists
	for i := 0; ; i++ {
		ok, fatal := db.runOne(conn, d, batch[i], &open)
		if ok {
			kept++
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
		break
	}
	switch {
	case lost != nil:
		rollback(conn, d)
		for _, r := range batch {
			if r.err == nil && r.panicked == nil {
				r.err = fmt.Errorf("write rolled back with its batch (%v): %w", lost, flows.ErrConflict)
			}
		}
	case kept == 0:
		rollback(conn, d)
	default:
		if rolledBack, err := commit(bg, conn, d); err != nil {
			for _, r := range batch {
				if r.err != nil || r.panicked != nil {
					continue
				}
				if rolledBack {
					r.err = fmt.Errorf("write rolled back with its batch (%v): %w", err, flows.ErrConflict)
				} else {
					r.err = fmt.Errorf("commit: %w", mapErr(err))
				}
			}
		}
	}
	return batch
}

// commit commits the lane's transaction on c, sending the held rows (held.go) and the COMMIT in one
// round trip. rolledBack reports that the transaction is certainly not
// committed (a held insert failed on the server, or the server answered
// the COMMIT with a rollback); otherwise, after an error, the outcome is
// unknown (the connection broke).
func commit(ctx context.Context, c *pgxpool.Conn, d *deferred) (rolledBack bool, err error) {
	var ps []pending
	if p, ok := d.h.unsentEvents(); ok {
		ps = append(ps, p)
	}
	if p, ok := d.h.unsentOutbox(); ok {
		ps = append(ps, p)
	}

	b := &pgx.Batch{}
	for _, p := range ps {
		b.Queue(p.sql, p.args...)
	}
	b.Queue(`COMMIT`)
	br := c.SendBatch(ctx, b)
	for _, p := range ps {
		if _, err := br.Exec(); err != nil {
			_ = br.Close()
			err = fmt.Errorf("%s: %w", p.what, err)
			var pe *pgconn.PgError
			if errors.As(err, &pe) {
				// Refused by the server: the COMMIT after it was skipped.
				rollback(c, d)
				return true, err
			}
			return false, err
		}
	}
	tag, err := br.Exec()
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return false, err
	}
	if tag.String() != "COMMIT" {
		return true, fmt.Errorf("commit answered %q", tag.String())
	}
	return false, nil
}

// rollback ends the lane's transaction, if BEGIN was sent; a connection
// that cannot roll back is closed (the pool then drops it).
func rollback(c *pgxpool.Conn, d *deferred) {
	if !d.txSent {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), commitTimeout)
	defer cancel()
	if _, err := c.Exec(ctx, `ROLLBACK`); err != nil {
		_ = c.Conn().Close(ctx)
	}
}

// runOne runs r in the savepoint "op" of the lane's transaction on conn.
// ok says r's writes are kept; fatal is set when the transaction can no
// longer be used. The savepoint statements and
// r's inserts are queued in d and sent with r's next statement that needs
// an answer (deferred.go); whatever is still queued when r.fn returns is
// sent then, so that r's outcome is known before the next operation.
func (db *DB) runOne(conn *pgxpool.Conn, d *deferred, r *writeReq, open *bool) (ok bool, fatal error) {
	if err := r.ctx.Err(); err != nil {
		r.err = fmt.Errorf("begin write transaction: %w", err)
		return false, nil
	}
	bg := context.Background()
	// Releasing the previous operation's savepoint keeps its writes in the
	// transaction.
	d.begin(*open)
	t := &tx{ctx: context.WithoutCancel(r.ctx), tx: conn, write: true, d: d, seqs: db.seqs, dir: db.dir}
	r.err = call(r, t)
	if r.err == nil && d.fatal == nil {
		r.err = t.flush()
	}
	if d.fatal != nil {
		if r.err == nil {
			r.err = d.fatal
		}
		return false, fmt.Errorf("savepoint: %w", d.fatal)
	}
	if d.spSent {
		// Sent: the previous savepoint is released and this one exists.
		*open = true
	}
	if r.err == nil && d.err != nil {
		// fn went on after a deferred statement of its own failed.
		r.err = fmt.Errorf("write: a statement failed and the operation went on: %w", d.err)
	}
	if r.err == nil && conn.Conn().PgConn().TxStatus() == 'E' {
		// fn went on after a failed statement: PostgreSQL refuses the
		// rest of the transaction, so the operation cannot be kept.
		r.err = fmt.Errorf("write: a statement failed and the operation went on: %w", flows.ErrConflict)
	}
	if r.err == nil {
		d.h.kept()
		return true, nil
	}
	d.h.failed()
	if conn.Conn().IsClosed() {
		return false, fmt.Errorf("connection lost: %w", r.err)
	}
	d.stmts = d.stmts[:0]
	if !d.spSent {
		// Nothing of r reached the server.
		return false, nil
	}
	if _, err := conn.Exec(bg, `ROLLBACK TO SAVEPOINT op`); err != nil {
		return false, fmt.Errorf("roll back savepoint: %w", mapErr(err))
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

// closeLanes stops the lanes after the batches running now; later writes
// get errClosed. Closing twice is harmless.
func (db *DB) closeLanes() {
	db.closeOnce.Do(func() {
		if db.wstop != nil {
			close(db.wstop)
		}
	})
	db.wg.Wait()
}
