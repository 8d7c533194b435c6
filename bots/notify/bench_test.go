package notify_test

import (
	"context"
	"log/slog"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/bots"
	"github.com/flowbot/flowbot/bots/notify"
	"github.com/flowbot/flowbot/flows"
)

// jittery is a platform whose sends usually take 2 ms and every tenth
// 200 ms (a slow chat, a rate limit, a platform hiccup). It records when
// each key was shown.
type jittery struct {
	mu    sync.Mutex
	n     int
	shown map[string]time.Time
}

func (j *jittery) Send(ctx context.Context, _ bots.Recipient, _ bots.Message, key string) (string, error) {
	j.mu.Lock()
	j.n++
	d := 2 * time.Millisecond
	if j.n%10 == 0 {
		d = 200 * time.Millisecond
	}
	j.mu.Unlock()
	select {
	case <-time.After(d):
	case <-ctx.Done():
		return "", ctx.Err()
	}
	j.mu.Lock()
	if _, ok := j.shown[key]; !ok {
		j.shown[key] = time.Now()
	}
	j.mu.Unlock()
	return "ref-" + key, nil
}

func (j *jittery) Update(context.Context, string, bots.Message) error { return nil }

// BenchmarkDeliveryDelay measures the delay from enqueue to shown of 300
// messages enqueued at 100/s (each kicking the notifier) over a platform
// where one send in ten is slow, with 4 workers: "batch" drains the way
// Run did before (claim a batch, wait for all of it, claim again),
// "continuous" is Run (a free worker claims at once). Run it with
// -benchtime=1x; it reports p50, p99 and max in ms.
func BenchmarkDeliveryDelay(b *testing.B) {
	for _, mode := range []string{"batch", "continuous"} {
		b.Run(mode, func(b *testing.B) {
			for range b.N {
				benchDelivery(b, mode)
			}
		})
	}
}

func benchDelivery(b *testing.B, mode string) {
	bb := setup(b)
	plat := &jittery{shown: map[string]time.Time{}}
	n := notify.New(notify.Config{Store: bb.db, Renderer: bb.render, Workers: 4, Poll: 50 * time.Millisecond,
		Logger: slog.New(slog.DiscardHandler), Messengers: map[string]bots.Messenger{"web": plat}})
	ctx, cancel := context.WithCancel(bb.ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		if mode == "continuous" {
			_ = n.Run(ctx)
			return
		}
		for ctx.Err() == nil { // the former Run: a batch, then the next
			if got, err := n.DrainOnce(ctx); err == nil && got > 0 {
				continue
			}
			select {
			case <-ctx.Done():
			case <-time.After(50 * time.Millisecond):
			}
		}
	}()
	const total = 300
	enq := map[string]time.Time{}
	tick := time.NewTicker(10 * time.Millisecond)
	for range total {
		<-tick.C
		m := &flows.OutboxMessage{Kind: flows.MsgText, Recipient: "bob", Data: []byte(`{"text":{"zh":"x","en":"x"}}`)}
		now := time.Now()
		require.NoError(b, bb.db.Update(bb.ctx, func(tx flows.Tx) error {
			m.Status, m.NextAt, m.CreatedAt = flows.OutboxPending, now, now
			return tx.Enqueue(m)
		}))
		enq[keyOf(m.ID)] = now
		n.Kick()
	}
	tick.Stop()
	require.Eventually(b, func() bool { plat.mu.Lock(); defer plat.mu.Unlock(); return len(plat.shown) == total }, time.Minute, 10*time.Millisecond)
	cancel()
	<-done
	var ds []time.Duration
	for k, at := range enq {
		ds = append(ds, plat.shown[k].Sub(at))
	}
	slices.Sort(ds)
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	b.ReportMetric(ms(ds[len(ds)/2]), "p50-ms")
	b.ReportMetric(ms(ds[len(ds)*99/100]), "p99-ms")
	b.ReportMetric(ms(ds[len(ds)-1]), "max-ms")
}

func keyOf(id int64) string { return "outbox-" + strconv.FormatInt(id, 10) + "-web" }
