package sqlite

import (
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
