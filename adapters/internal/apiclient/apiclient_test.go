package apiclient_test

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/adapters/internal/apiclient"
)

// Eight senders at once, ten rounds: the connections of one round serve
// the next; none is dialled beyond the eight.
func TestConnectionsAreKept(t *testing.T) {
	t.Parallel()
	var conns atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, `{"ok":true}`)
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	c := apiclient.New(5 * time.Second)
	require.Equal(t, 5*time.Second, c.Timeout)
	const senders, rounds = 8, 10
	for range rounds {
		var wg sync.WaitGroup
		for range senders {
			wg.Go(func() {
				resp, err := c.Get(srv.URL)
				require.NoError(t, err)
				_, _ = io.Copy(io.Discard, resp.Body)
				require.NoError(t, resp.Body.Close())
			})
		}
		wg.Wait()
	}
	require.LessOrEqual(t, conns.Load(), int64(senders), "connections dialled for %d calls", senders*rounds)
}
