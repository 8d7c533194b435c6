package bots

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Inbox keeps events that an adapter acknowledged to their platform before
// the bot finished them (a Feishu click answered "processing", a DingTalk
// card callback answered without its card): the platform will not deliver
// them again, so a crash must not lose them. store/sqlite and
// store/postgres implement it.
type Inbox interface {
	// Keep stores event under key, due for replay at due; a key already
	// kept is left as it is.
	Keep(ctx context.Context, key string, event []byte, due time.Time) error
	// Claim returns up to n entries due at or before now (those due
	// first, in no set order) and makes them
	// due again at until, counting one attempt each, so that one replayer
	// at a time has them.
	Claim(ctx context.Context, now, until time.Time, n int) ([]InboxEntry, error)
	// Remove deletes the entry of key (none: no error).
	Remove(ctx context.Context, key string) error
}

// InboxEntry is one kept event.
type InboxEntry struct {
	Key   string
	Event []byte
	// Attempts counts the claims, this one included.
	Attempts int
}

// InboxMaxAttempts is how often a kept event whose handling keeps failing
// (an internal error, not "in flight elsewhere") is replayed before it is
// dropped with an error in the log.
const InboxMaxAttempts = 10

// inboxBatch is how many kept events one replay claims.
const inboxBatch = 100

// ErrNoEventID says an event without an id cannot be kept: a replay of it
// could not be told from a new event.
var ErrNoEventID = errors.New("event has no id")

// inboxKey is the key of ev in the inbox: its dedupe key.
func inboxKey(ev Event) string { return ev.Platform + ":" + ev.ID }

// Keep makes ev durable before its adapter answers the platform without
// the bot's result; the adapter calls Done once Handle returned. What is
// kept and not done is replayed by ReplayInbox once ProcessingTTL passed,
// when the handler that had it cannot be running any more. Without an
// inbox configured Keep does nothing.
func (b *Bot) Keep(ctx context.Context, ev Event) error {
	if b.cfg.Inbox == nil {
		return nil
	}
	if ev.ID == "" || ev.Platform == "" {
		return fmt.Errorf("keep event: %w", ErrNoEventID)
	}
	if ev.File != nil {
		return fmt.Errorf("keep event %s: %w", inboxKey(ev), errFileNotKept)
	}
	raw, err := json.Marshal(ev)
	if err != nil {
		return fmt.Errorf("keep event %s: encode: %w", inboxKey(ev), err)
	}
	if err := b.cfg.Inbox.Keep(ctx, inboxKey(ev), raw, time.Now().Add(b.cfg.ProcessingTTL)); err != nil {
		return fmt.Errorf("keep event %s: %w", inboxKey(ev), err)
	}
	return nil
}

// Done removes a kept event whose handler returned.
func (b *Bot) Done(ctx context.Context, ev Event) error {
	if b.cfg.Inbox == nil {
		return nil
	}
	if err := b.cfg.Inbox.Remove(ctx, inboxKey(ev)); err != nil {
		return fmt.Errorf("remove kept event %s: %w", inboxKey(ev), err)
	}
	return nil
}

// DecodeInboxEvent decodes a kept event and checks that it names its
// platform and id, the key it was kept under.
func DecodeInboxEvent(key string, raw []byte) (Event, error) {
	var ev Event
	if err := json.Unmarshal(raw, &ev); err != nil {
		return Event{}, fmt.Errorf("decode kept event %q: %w", key, err)
	}
	if ev.ID == "" || ev.Platform == "" {
		return Event{}, fmt.Errorf("decode kept event %q: %w", key, ErrNoEventID)
	}
	if inboxKey(ev) != key {
		return Event{}, fmt.Errorf("decode kept event %q: the event is %q", key, inboxKey(ev))
	}
	if ev.File != nil {
		return Event{}, fmt.Errorf("decode kept event %q: %w", key, errFileNotKept)
	}
	return ev, nil
}

// errFileNotKept: the inbox keeps clicks and messages, not files (a file
// is read from the platform while its event is handled; how to read it
// again is not something that can be kept).
var errFileNotKept = errors.New("an event with a file is not kept")

// InboxReport says what one ReplayInbox did.
type InboxReport struct {
	Handled    int // replayed and handled
	Duplicates int // replayed and dropped by the Deduper: handled before
	InFlight   int // held by a handler still running: replayed later
	Failed     int // failed: replayed later
	Abandoned  int // undecodable, or failed InboxMaxAttempts times: dropped
}

// ReplayInbox hands kept events due at or before due to Handle, once
// each: the Deduper drops those already handled (their handler finished
// but was cut off before Done), an event still held by a live handler is
// left for later. Each replayed event is claimed for ProcessingTTL, so that
// two replicas do not replay it at once. A process that is alone on its
// database passes a due far ahead at start: what its killed predecessor
// kept needs no waiting.
func (b *Bot) ReplayInbox(ctx context.Context, due time.Time) (InboxReport, error) {
	var rep InboxReport
	if b.cfg.Inbox == nil {
		return rep, nil
	}
	entries, err := b.cfg.Inbox.Claim(ctx, due, time.Now().Add(b.cfg.ProcessingTTL), inboxBatch)
	if err != nil {
		return rep, fmt.Errorf("replay inbox: claim: %w", err)
	}
	for _, e := range entries {
		ev, err := DecodeInboxEvent(e.Key, e.Event)
		if err != nil {
			b.log.ErrorContext(ctx, "kept event cannot be replayed: dropped", "key", e.Key, "err", err)
			rep.Abandoned++
			b.removeKept(ctx, e.Key)
			continue
		}
		hctx, cancel := context.WithTimeout(ctx, b.cfg.ProcessingTTL)
		r, herr := b.Handle(hctx, ev)
		cancel()
		switch {
		case herr == nil && r.Outcome == OutcomeDuplicate:
			rep.Duplicates++
			b.removeKept(ctx, e.Key)
		case herr == nil:
			rep.Handled++
			b.log.InfoContext(ctx, "kept event replayed", "key", e.Key, "attempt", e.Attempts)
			b.removeKept(ctx, e.Key)
		case errors.Is(herr, ErrInFlight):
			rep.InFlight++
		case e.Attempts >= InboxMaxAttempts:
			rep.Abandoned++
			b.log.ErrorContext(ctx, "kept event failed too often: dropped", "key", e.Key, "attempts", e.Attempts, "err", herr)
			b.removeKept(ctx, e.Key)
		default:
			rep.Failed++
			b.log.WarnContext(ctx, "replay of kept event failed: retried later", "key", e.Key, "attempt", e.Attempts, "err", herr)
		}
	}
	return rep, nil
}

func (b *Bot) removeKept(ctx context.Context, key string) {
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := b.cfg.Inbox.Remove(rctx, key); err != nil {
		b.log.WarnContext(ctx, "remove replayed event from the inbox (it will be replayed again, and dropped as a duplicate)", "key", key, "err", err)
	}
}

// RunInbox replays due kept events every interval until ctx ends: the
// events a replica that died had kept.
func (b *Bot) RunInbox(ctx context.Context, every time.Duration) {
	if b.cfg.Inbox == nil || every <= 0 {
		return
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if _, err := b.ReplayInbox(ctx, time.Now()); err != nil && ctx.Err() == nil {
			b.log.WarnContext(ctx, "replay inbox", "err", err)
		}
	}
}
