package sqlite

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/flowbot/flowbot/bots"
	"github.com/flowbot/flowbot/flows"
)

// EventDeduper returns the deduper of the bot's inbound events for the one
// process that uses this file (SQLite without Redis). The hold of an event
// while it is handled lives in this process's memory: it ends with the
// process, which is what a hold is for (a redelivery after a crash is
// handled at once), and it costs no write. Only a handled event's id is
// written (Confirm), so a redelivery after a restart is still answered as
// a duplicate. FirstSeen thus takes a hold; the scheduler's once-only marks,
// which must outlive a restart, keep using Deduper.
func (db *DB) EventDeduper() bots.Deduper {
	return &eventHolds{d: (*deduper)(db), held: map[string]time.Time{}}
}

// eventHolds is EventDeduper's deduper.
type eventHolds struct {
	d     *deduper
	mu    sync.Mutex
	held  map[string]time.Time // key -> end of its hold
	sweep int                  // FirstSeen calls since expired holds were dropped
}

// sweepEvery is how many holds are taken between drops of the expired
// ones (a hold normally ends at its Confirm or Forget).
const sweepEvery = 1024

// FirstSeen holds key for ttl unless it is held or was handled (written by
// Confirm), and reports whether it took the hold.
func (h *eventHolds) FirstSeen(ctx context.Context, key string, ttl time.Duration) (bool, error) {
	if err := checkKV("dedupe", key, ttl, true); err != nil {
		return false, err
	}
	now := time.Now()
	until := now.Add(ttl)
	h.mu.Lock()
	if end, ok := h.held[key]; ok && now.Before(end) {
		h.mu.Unlock()
		return false, nil
	}
	h.held[key] = until
	if h.sweep++; h.sweep >= sweepEvery {
		h.sweep = 0
		for k, end := range h.held {
			if !now.Before(end) {
				delete(h.held, k)
			}
		}
	}
	h.mu.Unlock()
	var n int
	err := (*DB)(h.d).queryRow(ctx, `SELECT count(*) FROM kv_dedupe WHERE key = ? AND expires_at > ?`, key, now.UnixMilli()).Scan(&n)
	if err != nil || n > 0 {
		h.drop(key, until)
		if err != nil {
			return false, fmt.Errorf("dedupe %q: %w", key, err)
		}
		return false, nil // handled already
	}
	return true, nil
}

// drop ends the hold of key if it is still the one ending at until.
func (h *eventHolds) drop(key string, until time.Time) {
	h.mu.Lock()
	if end, ok := h.held[key]; ok && end.Equal(until) {
		delete(h.held, key)
	}
	h.mu.Unlock()
}

// Confirm writes key handled for ttl and ends its hold.
func (h *eventHolds) Confirm(ctx context.Context, key string, ttl time.Duration) error {
	if err := h.d.Confirm(ctx, key, ttl); err != nil {
		return err
	}
	h.mu.Lock()
	delete(h.held, key)
	h.mu.Unlock()
	return nil
}

// ConfirmWithRefs is Confirm that also saves refs, the message refs of
// the cards the event was a click on, in the same write
// (bots.DedupeRefKeeper).
func (h *eventHolds) ConfirmWithRefs(ctx context.Context, key string, ttl time.Duration, refs []*flows.MessageRef) error {
	if err := checkKV("confirm dedupe key", key, ttl, true); err != nil {
		return err
	}
	for _, r := range refs {
		if err := checkRef(r); err != nil {
			return fmt.Errorf("confirm dedupe key %q: %w", key, err)
		}
	}
	db := (*DB)(h.d)
	err := db.kvWrite(ctx, "kv_dedupe", func(t *tx, now int64) error {
		if err := confirmIn(t, key, ttl, now); err != nil {
			return err
		}
		for _, r := range refs {
			if err := insertRef(t, r); err != nil {
				return fmt.Errorf("save message ref of instance %d: %w", r.InstanceID, err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("confirm dedupe key %q: %w", key, mapErr(err))
	}
	h.mu.Lock()
	delete(h.held, key)
	h.mu.Unlock()
	return nil
}

// Done reports whether key was confirmed.
func (h *eventHolds) Done(ctx context.Context, key string) (bool, error) {
	return h.d.Done(ctx, key)
}

// Renew keeps the hold of key for ttl from now if it is still held, never
// shortening it. A confirmed key is not held.
func (h *eventHolds) Renew(_ context.Context, key string, ttl time.Duration) (bool, error) {
	if err := checkKV("renew dedupe hold", key, ttl, true); err != nil {
		return false, err
	}
	now := time.Now()
	h.mu.Lock()
	defer h.mu.Unlock()
	end, ok := h.held[key]
	if !ok || !now.Before(end) {
		return false, nil
	}
	if next := now.Add(ttl); next.After(end) {
		h.held[key] = next
	}
	return true, nil
}

// Forget ends the hold of key and removes what Confirm wrote of it.
func (h *eventHolds) Forget(ctx context.Context, key string) error {
	if err := checkKV("forget dedupe key", key, 0, false); err != nil {
		return err
	}
	h.mu.Lock()
	delete(h.held, key)
	h.mu.Unlock()
	return h.d.Forget(ctx, key)
}
