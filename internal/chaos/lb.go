package chaos

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync/atomic"
	"time"
)

// balancer spreads requests over the replicas in turn, as a platform's
// load balancer does: a request whose replica cannot be reached (killed,
// restarting: connection refused or cut) goes to the next one; when none
// answers it is 502, and the platform delivers it again.
type balancer struct {
	backends []string // base URLs
	next     atomic.Uint64
	client   *http.Client
	srv      *http.Server
	URL      string
}

func newBalancer(backends []string) (*balancer, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("chaos: balancer: %w", err)
	}
	b := &balancer{backends: backends, URL: "http://" + l.Addr().String(),
		client: &http.Client{Timeout: 15 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}}
	b.srv = &http.Server{Handler: b, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = b.srv.Serve(l) }()
	return b, nil
}

func (b *balancer) Close() { _ = b.srv.Close() }

func (b *balancer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 4<<20))
	if err != nil {
		http.Error(w, "read body", http.StatusBadRequest)
		return
	}
	start := b.next.Add(1)
	var last error
	for i := range len(b.backends) {
		base := b.backends[(int(start)+i)%len(b.backends)]
		req, err := http.NewRequestWithContext(r.Context(), r.Method, base+r.URL.RequestURI(), bytes.NewReader(body))
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		req.Header = r.Header.Clone()
		resp, err := b.client.Do(req)
		if err != nil {
			last = err
			if r.Context().Err() != nil {
				return
			}
			continue // not reached, or cut mid-way: the next replica
		}
		for k, vs := range resp.Header {
			w.Header()[k] = vs
		}
		w.WriteHeader(resp.StatusCode)
		_, _ = io.Copy(w, resp.Body)
		resp.Body.Close()
		return
	}
	http.Error(w, fmt.Sprintf("no replica answered: %v", errors.Unwrap(last)), http.StatusBadGateway)
}
