package postgres_test

import (
	"context"
	"io"
	"net"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/flows"
	"github.com/flowbot/flowbot/store/postgres"
)

// slowProxy forwards TCP to the test PostgreSQL; once armed, it holds
// every answer of the server for delay before passing it on: the server
// has done the work, the client hears of it late.
type slowProxy struct {
	ln    net.Listener
	delay atomic.Int64 // nanoseconds; 0 = none
	wg    sync.WaitGroup
}

func newSlowProxy(t *testing.T, target string) *slowProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	p := &slowProxy{ln: ln}
	p.wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s, err := net.Dial("tcp", target)
			if err != nil {
				_ = c.Close()
				continue
			}
			p.wg.Go(func() { _, _ = io.Copy(s, c); _ = s.Close() })
			p.wg.Go(func() {
				buf := make([]byte, 32<<10)
				for {
					n, err := s.Read(buf)
					if d := p.delay.Load(); d > 0 && n > 0 {
						time.Sleep(time.Duration(d))
					}
					if n > 0 {
						if _, werr := c.Write(buf[:n]); werr != nil {
							break
						}
					}
					if err != nil {
						break
					}
				}
				_ = c.Close()
			})
		}
	})
	t.Cleanup(func() { _ = ln.Close() })
	return p
}

// TestCommitOutlivingDeadlineTellsTheTruth reproduces the "doubled summary
// card" of the long two-replica chaos run: a write whose COMMIT was done
// by the server but answered after the caller's deadline. Before, Update
// returned "context deadline exceeded" while PostgreSQL had committed: the
// bot took the event as failed, the platform delivered it again, and its
// reply was written (and shown) twice. Now the commit, once sent, is
// awaited past the caller's deadline, so the answer is the outcome.
func TestCommitOutlivingDeadlineTellsTheTruth(t *testing.T) {
	schema := newSchema(t)
	u, err := url.Parse(testURL())
	require.NoError(t, err)
	proxy := newSlowProxy(t, u.Host)
	cfg := poolConfig(t, schema)
	cfg.ConnConfig.Host, cfg.ConnConfig.Port = "127.0.0.1", uint16(proxy.ln.Addr().(*net.TCPAddr).Port)
	cfg.ConnConfig.Fallbacks = nil
	db, err := postgres.OpenConfig(context.Background(), cfg, nil)
	require.NoError(t, err)
	defer db.Close()

	ctx := context.Background()
	conn, err := pgx.Connect(ctx, testURL()) // direct, to see what committed
	require.NoError(t, err)
	defer conn.Close(ctx)

	now := time.Now().UTC()
	var id int64
	tctx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
	defer cancel()
	err = db.Update(tctx, func(tx flows.Tx) error {
		m := &flows.OutboxMessage{Kind: flows.MsgReply, Recipient: "u1", Status: flows.OutboxPending, NextAt: now, CreatedAt: now}
		if err := tx.Enqueue(m); err != nil {
			return err
		}
		id = m.ID
		proxy.delay.Store(int64(time.Second)) // the COMMIT's answer comes late
		return nil
	})
	proxy.delay.Store(0)
	var n int
	require.NoError(t, conn.QueryRow(ctx, `SELECT count(*) FROM `+schema+`.outbox WHERE id = $1`, id).Scan(&n))
	require.Equal(t, 1, n, "the server committed the write")
	require.NoError(t, err, "Update must report the commit that happened, not the caller's deadline")

	// A caller whose context ended before anything was sent still gets
	// its error, and nothing is written.
	gone, cancel2 := context.WithCancel(ctx)
	cancel2()
	err = db.Update(gone, func(tx flows.Tx) error {
		return tx.Enqueue(&flows.OutboxMessage{Kind: flows.MsgReply, Recipient: "u2", Status: flows.OutboxPending, NextAt: now, CreatedAt: now})
	})
	require.Error(t, err)
	require.NoError(t, conn.QueryRow(ctx, `SELECT count(*) FROM `+schema+`.outbox WHERE recipient = 'u2'`).Scan(&n))
	require.Zero(t, n)
}
