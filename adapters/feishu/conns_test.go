package feishu_test

import (
	"context"
	"io"
	"net"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/adapters/feishu"
	"github.com/flowbot/flowbot/bots"
)

// countingProxy forwards TCP connections to target and counts them.
func countingProxy(t *testing.T, target string) (addr string, conns *atomic.Int64) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { _ = ln.Close() })
	conns = new(atomic.Int64)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns.Add(1)
			go func() {
				defer c.Close()
				up, err := net.Dial("tcp", target)
				if err != nil {
					return
				}
				defer up.Close()
				go func() { _, _ = io.Copy(up, c); _ = up.Close() }()
				_, _ = io.Copy(c, up)
			}()
		}
	}()
	return ln.Addr().String(), conns
}

// The notifier sends with several workers at once, all to one API host:
// the adapter's default client keeps their connections for the next sends
// instead of dialling (and closing) one per send.
func TestSendsReuseConnections(t *testing.T) {
	t.Parallel()
	const workers, rounds = 8, 10
	var conns *atomic.Int64
	b := setup(t, setupOpts{mode: feishu.ModeHTTP, appMutator: func(a *feishu.App) {
		u, err := url.Parse(a.BaseURL)
		require.NoError(t, err)
		var addr string
		addr, conns = countingProxy(t, u.Host)
		a.BaseURL = "http://" + addr
	}})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for r := range rounds {
		var wg sync.WaitGroup
		for w := range workers {
			wg.Go(func() {
				card := bots.Card{Title: "round " + strconv.Itoa(r)}
				_, err := b.adapter.Send(ctx, bots.Recipient{UserID: "ou_" + strconv.Itoa(w)}, bots.Message{Card: &card}, "k-"+strconv.Itoa(r)+"-"+strconv.Itoa(w))
				require.NoError(t, err)
			})
		}
		wg.Wait()
	}
	require.Len(t, b.fake.Messages(), workers*rounds)
	// One connection per concurrent send (and the token fetch) at most;
	// with two idle connections per host it was one per send beyond two.
	require.LessOrEqual(t, conns.Load(), int64(workers+2), "connections dialled for %d sends", workers*rounds)
}
