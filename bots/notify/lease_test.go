package notify_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/bots"
	"github.com/flowbot/flowbot/bots/notify"
	"github.com/flowbot/flowbot/flows"
)

// slowPlatform takes its time over each send, like a platform under load.
type slowPlatform struct {
	delay time.Duration
	sends atomic.Int32
}

func (p *slowPlatform) Send(ctx context.Context, _ bots.Recipient, _ bots.Message, _ string) (string, error) {
	select {
	case <-time.After(p.delay):
	case <-ctx.Done():
		return "", ctx.Err()
	}
	return "ref-" + string(rune('a'+p.sends.Add(1))), nil
}

func (p *slowPlatform) Update(context.Context, string, bots.Message) error { return nil }

// The end of a batch is not sent after the batch's lease ran out: another
// replica may have claimed it by then, and it would be sent twice.
func TestNoSendAfterTheBatchLease(t *testing.T) {
	t.Parallel()
	b := setup(t)
	slow := &slowPlatform{delay: 400 * time.Millisecond}
	n := notify.New(notify.Config{Store: b.db, Renderer: b.render, Clock: b.clock.Now, Workers: 1, Batch: 10,
		Lease: time.Second, Messengers: map[string]bots.Messenger{"web": slow}})
	ids := b.enqueue(t,
		&flows.OutboxMessage{Kind: flows.MsgText, Recipient: "bob", Data: []byte(`{"text":{"zh":"1","en":"1"}}`)},
		&flows.OutboxMessage{Kind: flows.MsgText, Recipient: "bob", Data: []byte(`{"text":{"zh":"2","en":"2"}}`)},
		&flows.OutboxMessage{Kind: flows.MsgText, Recipient: "bob", Data: []byte(`{"text":{"zh":"3","en":"3"}}`)},
		&flows.OutboxMessage{Kind: flows.MsgText, Recipient: "bob", Data: []byte(`{"text":{"zh":"4","en":"4"}}`)},
	)
	_, err := n.DrainOnce(b.ctx)
	require.NoError(t, err)
	// 4 × 400 ms does not fit in 750 ms (¾ of the lease): the rest waits.
	sent := int(slow.sends.Load())
	require.Less(t, sent, len(ids))
	require.Positive(t, sent)
	delivered := b.outbox(t, flows.OutboxDelivered)
	pending := b.outbox(t, flows.OutboxPending)
	require.Len(t, delivered, sent)
	require.Len(t, pending, len(ids)-sent, "the rest is left pending for the next claim, not failed")
	// Once the lease is over, the next claim sends the rest.
	b.clock.Add(2 * time.Second)
	for range 4 {
		if len(b.outbox(t, flows.OutboxPending)) == 0 {
			break
		}
		_, err = n.DrainOnce(b.ctx)
		require.NoError(t, err)
		b.clock.Add(2 * time.Second)
	}
	require.Len(t, b.outbox(t, flows.OutboxDelivered), len(ids))
	require.Equal(t, int32(len(ids)), slow.sends.Load(), "each sent once")
}
