package feishu

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// bucket is a token bucket in GCRA form: tat is the theoretical arrival
// time of the next request; a request at t conforms when t >= tat - tau.
// In any window of length w it lets through at most burst + w*rate
// requests.
type bucket struct {
	interval time.Duration // 1/rate
	tau      time.Duration // (burst-1) * interval
	tat      time.Time
}

func newBucket(perSecond float64, burst int) *bucket {
	iv := time.Duration(float64(time.Second) / perSecond)
	return &bucket{interval: iv, tau: time.Duration(max(burst, 1)-1) * iv}
}

// earliest is the first time >= t at which a request conforms.
func (b *bucket) earliest(t time.Time) time.Time {
	if e := b.tat.Add(-b.tau); e.After(t) {
		return e
	}
	return t
}

// take records a request at t (t >= earliest(t)).
func (b *bucket) take(t time.Time) {
	if b.tat.Before(t) {
		b.tat = t
	}
	b.tat = b.tat.Add(b.interval)
}

// limiter holds an app's outbound limits: Feishu's per-app quota both per
// second and per minute (any 60 s window), and a per-chat rate.
//
// A bucket with burst B and rate r lets B + r*w requests through in any
// window of length w, so each limit is split between burst and refill:
// per second, burst 25 and 25/s (at most 50 in any second); per minute,
// burst 25 and 975/60 per second (at most 1000 in any 60 s). A burst of
// 25 goes out at once; sustained sending runs at 975/min.
type limiter struct {
	perChat float64

	mu      sync.Mutex
	sec     *bucket
	min     *bucket
	chats   map[string]*bucket
	p2pChat map[string]string // open_id -> its p2p chat_id
}

// maxChats bounds the per-chat state; past it idle chats are forgotten (a
// fresh bucket is full, so this errs on the side of Feishu's 429, which is
// retried).
const maxChats = 10000

func newLimiter(r RateLimits) *limiter {
	// A bucket with burst B and rate r lets B + r*w requests through in a
	// window of length w: both buckets split their quota between burst and
	// refill so that no window exceeds it.
	burst := max(1, int(r.AppPerSecond/2))
	secRate := r.AppPerSecond - float64(burst)
	if secRate <= 0 {
		secRate = r.AppPerSecond
	}
	minBurst := min(burst, max(1, int(r.AppPerMinute/2)))
	minRate := (r.AppPerMinute - float64(minBurst)) / 60
	if minRate <= 0 {
		minRate = r.AppPerMinute / 120
	}
	return &limiter{
		perChat: r.ChatPerSecond,
		sec:     newBucket(secRate, burst),
		min:     newBucket(minRate, minBurst),
		chats:   map[string]*bucket{},
		p2pChat: map[string]string{},
	}
}

// reserveApp takes a slot of the app's limits at the earliest time >= now
// both allow and returns it. With deadline set and the slot after it,
// nothing is taken and ok is false.
func (l *limiter) reserveApp(now, deadline time.Time) (at time.Time, ok bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return reserve(now, deadline, l.sec, l.min)
}

// reserveChat takes a slot of chat's limit (see reserveApp).
func (l *limiter) reserveChat(now time.Time, chat string, deadline time.Time) (at time.Time, ok bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	c, found := l.chats[chat]
	if !found {
		if len(l.chats) >= maxChats {
			clear(l.chats)
		}
		c = newBucket(l.perChat, max(1, int(l.perChat)))
		l.chats[chat] = c
	}
	return reserve(now, deadline, c)
}

func reserve(now, deadline time.Time, bs ...*bucket) (time.Time, bool) {
	at := now
	for changed := true; changed; {
		changed = false
		for _, b := range bs {
			if e := b.earliest(at); e.After(at) {
				at, changed = e, true
			}
		}
	}
	if !deadline.IsZero() && at.After(deadline) {
		return at, false
	}
	for _, b := range bs {
		b.take(at)
	}
	return at, true
}

// chatKey is the per-chat limiter key of a receiver: the chat id, or for a
// user the id of their p2p chat with the bot when known (so that the
// notifier's sends to an open_id and the replies into the same p2p chat
// share one limit), else the open_id.
func (l *limiter) chatKey(idType, id string) string {
	if idType == "chat_id" {
		return id
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if c, ok := l.p2pChat[id]; ok {
		return c
	}
	return "user:" + id
}

// learnP2P records that openID's p2p chat with the bot is chatID.
func (l *limiter) learnP2P(openID, chatID string) {
	if openID == "" || chatID == "" {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, ok := l.p2pChat[openID]; !ok && len(l.p2pChat) >= maxChats {
		clear(l.p2pChat)
	}
	l.p2pChat[openID] = chatID
}

// wait waits for a slot of chat's limit ("" for none), then for one of
// the app's: the app's slots are taken in time order, so that one busy
// chat does not hold up the others. When a slot lies past ctx's deadline
// it returns at once with an error wrapping context.DeadlineExceeded; when
// ctx ends first, ctx.Err().
func (l *limiter) wait(ctx context.Context, now func() time.Time, chat string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	deadline, _ := ctx.Deadline()
	if chat != "" {
		if err := sleepUntil(ctx, now, func(t time.Time) (time.Time, bool) { return l.reserveChat(t, chat, deadline) }); err != nil {
			return err
		}
	}
	return sleepUntil(ctx, now, func(t time.Time) (time.Time, bool) { return l.reserveApp(t, deadline) })
}

func sleepUntil(ctx context.Context, now func() time.Time, reserve func(time.Time) (time.Time, bool)) error {
	t := now()
	at, ok := reserve(t)
	if !ok {
		return fmt.Errorf("%w: the rate limit allows the call only in %s", context.DeadlineExceeded, at.Sub(t).Round(time.Millisecond))
	}
	if d := at.Sub(t); d > 0 {
		return sleep(ctx, d)
	}
	return nil
}
