package chaos

import (
	"context"
	"time"
)

// inbox is the messages shown per chat (a Feishu p2p chat, or a web
// user), with waiters told when a message they wait for arrives: a wait
// costs one scan of the chat's recent messages and a channel receive,
// not a scan of the whole chat every few milliseconds.
type inbox struct {
	msgs    map[string][]Seen
	waiters map[string][]*waiter
}

// waiter is one wait for a message of a chat.
type waiter struct {
	match func(Seen) bool
	got   chan Seen // buffered (1): add never blocks
}

func newInbox() inbox {
	return inbox{msgs: map[string][]Seen{}, waiters: map[string][]*waiter{}}
}

// add shows m in chat and hands it to the first waiters it matches. The
// caller holds the lock guarding the inbox.
func (b *inbox) add(chat string, m Seen) {
	b.msgs[chat] = append(b.msgs[chat], m)
	ws := b.waiters[chat]
	if len(ws) == 0 {
		return
	}
	kept := ws[:0]
	for _, w := range ws {
		if w.match(m) {
			w.got <- m
			continue
		}
		kept = append(kept, w)
	}
	clear(ws[len(kept):])
	if len(kept) == 0 {
		delete(b.waiters, chat)
		return
	}
	b.waiters[chat] = kept
}

// find returns the messages of chat that match, oldest first.
func (b *inbox) find(chat string, match func(Seen) bool) []Seen {
	var out []Seen
	for _, m := range b.msgs[chat] {
		if match(m) {
			out = append(out, m)
		}
	}
	return out
}

// each visits every message shown, chat by chat; the owner's lock is held.
func (b *inbox) each(visit func(Seen)) {
	for _, ms := range b.msgs {
		for _, m := range ms {
			visit(m)
		}
	}
}

// latest returns the newest message of chat shown at or after since that
// matches (scanning back from the newest, so a wait costs what arrived
// since it began, not the chat's whole history).
func (b *inbox) latest(chat string, since time.Time, match func(Seen) bool) (Seen, bool) {
	ms := b.msgs[chat]
	for i := len(ms) - 1; i >= 0; i-- {
		if ms[i].At.Before(since) {
			break
		}
		if match(ms[i]) {
			return ms[i], true
		}
	}
	return Seen{}, false
}

// register adds a waiter for chat; the caller holds the lock.
func (b *inbox) register(chat string, match func(Seen) bool) *waiter {
	w := &waiter{match: match, got: make(chan Seen, 1)}
	b.waiters[chat] = append(b.waiters[chat], w)
	return w
}

// unregister removes w if it is still waiting; the caller holds the lock.
func (b *inbox) unregister(chat string, w *waiter) {
	ws := b.waiters[chat]
	for i, x := range ws {
		if x == w {
			b.waiters[chat] = append(ws[:i], ws[i+1:]...)
			if len(b.waiters[chat]) == 0 {
				delete(b.waiters, chat)
			}
			return
		}
	}
}

// locker is the lock guarding an inbox.
type locker interface {
	Lock()
	Unlock()
}

// waitIn waits until a message of chat shown at or after since matches
// (one already shown counts) and returns it.
func waitIn(ctx context.Context, mu locker, b *inbox, chat string, since time.Time, match func(Seen) bool) (Seen, error) {
	mu.Lock()
	if m, ok := b.latest(chat, since, match); ok {
		mu.Unlock()
		return m, nil
	}
	w := b.register(chat, match)
	mu.Unlock()
	select {
	case m := <-w.got:
		return m, nil
	case <-ctx.Done():
		mu.Lock()
		b.unregister(chat, w)
		mu.Unlock()
		select { // handed over while the lock was being taken
		case m := <-w.got:
			return m, nil
		default:
		}
		return Seen{}, ctx.Err()
	}
}
