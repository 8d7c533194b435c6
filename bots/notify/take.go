package notify

import (
	"time"

	"github.com/flowbot/flowbot/flows"
)

// Taking messages as they are written. A store that can (the SQLite
// store's Taker) asks the running notifier, while an operation writes a
// message due now, whether it can take it (Take): a place in the queue of
// handed messages. If so the store writes the message already claimed for
// the notifier's lease and, after the COMMIT, hands it over (Taken): no
// claim is written for it. A message the notifier had no room for is
// written due and claimed as before.

// Take reserves a place in the queue of handed messages for a message
// due at due that a store is about to write, and returns the end of the
// lease to write it claimed until. It reports false, and reserves
// nothing, when Run is not running or stopping, the message is due later,
// or the queue is full. It never blocks.
func (n *Notifier) Take(due time.Time) (until time.Time, ok bool) {
	n.takes.Store(true)
	p := n.live.Load()
	if p == nil {
		return time.Time{}, false
	}
	now := n.cfg.Clock()
	if due.After(now) {
		return time.Time{}, false // claimed by a Poll once due
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return time.Time{}, false
	}
	if len(p.handed)+p.slots >= cap(p.handed) {
		n.missed.Store(true) // left due: claimed by the next claim
		return time.Time{}, false
	}
	p.slots++
	p.taking.Add(1)
	return ms(now.Add(n.cfg.Lease)), true
}

// Taken queues ms, committed claimed as reserved by Take, for the
// workers; their claims are renewed from now on. Run starts idle workers
// on them when woken (Nudge, Kick, a worker finishing), after any claim
// that is due. It never blocks.
func (n *Notifier) Taken(ms []*flows.OutboxMessage) {
	p := n.live.Load()
	if p == nil {
		return // not reserved here: left to its lease
	}
	mark := n.share.Mark() // every message of ms is committed
	for _, m := range ms {
		c := n.hold(p.ctx, m)
		c.mark = mark
		p.handed <- c // room was reserved
		p.mu.Lock()
		p.slots--
		p.mu.Unlock()
		p.taking.Done()
	}
}

// Untake gives back k reservations whose messages were not committed.
func (n *Notifier) Untake(k int) {
	p := n.live.Load()
	if p == nil {
		return
	}
	p.mu.Lock()
	p.slots -= k
	p.mu.Unlock()
	p.taking.Add(-k)
}

// Nudge wakes Run after an operation that may have written messages (the
// bot's handling of an event, once answered): Run starts idle workers on
// the messages handed over, and claims only when a message written since
// the last claim was left due (a claim that finds nothing is a write of
// its own). Without a store that hands messages over it is Kick.
func (n *Notifier) Nudge() {
	if n.takes.Load() && !n.missed.Load() {
		select {
		case n.nudge <- struct{}{}:
		default:
		}
		return
	}
	n.Kick()
}
