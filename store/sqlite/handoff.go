package sqlite

import (
	"context"
	"time"

	"github.com/flowbot/flowbot/flows"
)

// Handing outbox messages to their sender as they are written.
//
// Without a Taker, an operation's message is written due now and the
// notifier claims it with a write of its own (ClaimOutbox: a SELECT and an
// UPDATE through the writer) after the operation committed. With one, the
// message is written already claimed by the Taker: Enqueue asks it for
// room to send one more message, writes the message due at the end of that
// claim's lease, and after the COMMIT the writer hands it over; no claim is
// written at all. A
// message whose write rolled back is given back (Untake). What a process
// killed between the COMMIT and the send held is due again when its lease
// runs out, or at once at the next start (ReleaseDeadClaims), as a claim
// would be.

// A Taker takes outbox messages as they are written (bots/notify's
// Notifier is one). Its methods are called by the writer goroutine and
// must not block or write to the DB.
type Taker interface {
	// Take reserves room to send one message due at due, about to be
	// written, and returns the end of the lease it is claimed for; false
	// (no room, not running, due later) leaves the message due.
	Take(due time.Time) (until time.Time, ok bool)
	// Taken hands over messages reserved by Take once they are committed.
	Taken(ms []*flows.OutboxMessage)
	// Untake gives back n reservations whose messages were not committed.
	Untake(n int)
}

// SetTaker makes t take the messages written from now on (nil: none).
func (db *DB) SetTaker(t Taker) {
	if t == nil {
		db.taker.Store(nil)
		return
	}
	db.taker.Store(&takerRef{t})
}

type takerRef struct{ Taker }

// take asks the Taker, if any, to take m; it reports the lease's end.
func (t *tx) take(m *flows.OutboxMessage) (until time.Time, ok bool) {
	if t.req == nil {
		return time.Time{}, false
	}
	tk := t.db.taker.Load()
	if tk == nil {
		return time.Time{}, false
	}
	until, ok = tk.Take(m.NextAt)
	if ok {
		t.req.taker = tk.Taker
	}
	return until, ok
}

// AfterCommit runs fn once the write transaction committed, on the
// writer: before the messages it wrote are handed over and before any
// later write begins (flows.AfterCommitter). fn must be quick and must
// not use the store. A write that fails or rolls back never runs it; in
// a read transaction it is never run.
func (t *tx) AfterCommit(fn func()) {
	if t.req != nil {
		t.req.after = append(t.req.after, fn)
	}
}

// OnForeignWrite has fn called when the writer finds that a connection
// other than its own (another process: a command run beside flowbot
// serve) committed to the database. The call is made on the writer, as
// its next write transaction begins, before that transaction's writes
// run: what the engine keeps of the requests it wrote (AfterCommit) is
// then forgotten before any message of those other writes is claimed.
// Reads made meanwhile can show that kept state (until the next write,
// at most a poll of the notifier). fn must be quick and must not use the
// store.
func (db *DB) OnForeignWrite(fn func()) { db.foreign.Store(&fn) }

// checkForeign calls the OnForeignWrite function when data_version moved
// since the last check: another connection committed.
func (db *DB) checkForeign(c *dconn) {
	fn := db.foreign.Load()
	if fn == nil {
		return
	}
	var v int64
	if err := c.queryRow(context.Background(), `PRAGMA data_version`).Scan(&v); err != nil {
		db.log.Warn("sqlite data_version", "err", err)
		v = -1 // unknown: counted as a change
	}
	if v != db.dataVersion || v < 0 {
		if db.dataVersion != 0 {
			db.runAfter(*fn)
		}
		db.dataVersion = v
	}
}

// afterCommit runs the AfterCommit functions of the kept requests of a
// committed batch.
func (db *DB) afterCommit(batch []*writeReq) {
	for _, r := range batch {
		if !r.kept {
			continue
		}
		for _, fn := range r.after {
			db.runAfter(fn)
		}
		r.after = nil
	}
}

// runAfter runs fn, logging a panic: the writer goes on.
func (db *DB) runAfter(fn func()) {
	defer func() {
		if p := recover(); p != nil {
			db.log.Error("sqlite after-commit function panicked", "panic", p)
		}
	}()
	fn()
}

// handOver tells the Taker the outcome of each request of a finished
// batch: a request whose savepoint was released and whose batch committed
// hands its messages over, any other gives their reservations back.
func handOver(batch []*writeReq, committed bool) {
	for _, r := range batch {
		if r.taker == nil || len(r.taken) == 0 {
			continue
		}
		if committed && r.kept {
			r.taker.Taken(r.taken)
		} else {
			r.taker.Untake(len(r.taken))
		}
		r.taken, r.taker = nil, nil
	}
}
