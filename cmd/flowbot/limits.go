package main

import (
	"bytes"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Limits that keep slow or numerous clients from taking the server down:
// a deadline for each request body, a cap on requests in flight per route
// group, and a cap on open connections. Past a cap the answer is 503 with
// Retry-After, never a hang.

// maxBuffered is how much of a body guard reads before handing the request
// on; a larger body is left to the handler's own size check.
const maxBuffered = 4 << 20

// routeGroup names the in-flight cap a path falls under ("" = none).
func routeGroup(path string) string {
	switch {
	case path == "/ui/api/events":
		return "" // a long-lived stream: bounded by the connection cap only
	case strings.HasPrefix(path, "/webhook/"):
		return "webhooks"
	case strings.HasPrefix(path, "/ui/api/"):
		return "ui"
	case strings.HasPrefix(path, "/api/"):
		return "api"
	}
	return ""
}

// guard wraps h: the body must arrive within cfg.ReadTimeout (it is read
// before the request takes an in-flight place, so a trickling sender holds
// no place), then the request runs if its route group has a free place, else
// it is answered 503.
func guard(h http.Handler, cfg HTTPConfig) http.Handler {
	sems := map[string]chan struct{}{}
	for group, n := range map[string]int{"webhooks": cfg.MaxInFlight.Webhooks, "ui": cfg.MaxInFlight.UI, "api": cfg.MaxInFlight.API} {
		if n > 0 {
			sems[group] = make(chan struct{}, n)
		}
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength != 0 && r.Body != nil && r.Body != http.NoBody {
			rc := http.NewResponseController(w)
			_ = rc.SetReadDeadline(time.Now().Add(cfg.ReadTimeout))
			buf, err := io.ReadAll(io.LimitReader(r.Body, maxBuffered+1))
			if err != nil {
				w.Header().Set("Connection", "close")
				http.Error(w, "request body not received in time", http.StatusRequestTimeout)
				return
			}
			if len(buf) <= maxBuffered {
				_ = rc.SetReadDeadline(time.Time{}) // all read: handling may take longer
				r.Body = io.NopCloser(bytes.NewReader(buf))
			} else {
				r.Body = struct {
					io.Reader
					io.Closer
				}{io.MultiReader(bytes.NewReader(buf), r.Body), r.Body}
			}
		}
		if sem := sems[routeGroup(r.URL.Path)]; sem != nil {
			select {
			case sem <- struct{}{}:
				defer func() { <-sem }()
			default:
				busy(w)
				return
			}
		}
		h.ServeHTTP(w, r)
	})
}

// busy answers 503 with Retry-After.
func busy(w http.ResponseWriter) {
	w.Header().Set("Retry-After", "1")
	http.Error(w, "busy, retry later", http.StatusServiceUnavailable)
}

// limitListener accepts at most max connections at once; a connection
// past the cap is answered 503 with Retry-After and closed at once.
type limitListener struct {
	net.Listener
	sem chan struct{}
}

func newLimitListener(ln net.Listener, max int) net.Listener {
	if max <= 0 {
		return ln
	}
	return &limitListener{Listener: ln, sem: make(chan struct{}, max)}
}

const busyResponse = "HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 18\r\nConnection: close\r\n\r\nbusy, retry later\n"

func (l *limitListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		select {
		case l.sem <- struct{}{}:
			return &limitConn{Conn: c, release: func() { <-l.sem }}, nil
		default:
			go func() {
				_ = c.SetDeadline(time.Now().Add(time.Second))
				// Read what the client sent first, so closing does not
				// reset the connection before it reads the answer.
				_, _ = c.Read(make([]byte, 4096))
				_, _ = io.WriteString(c, busyResponse)
				_ = c.Close()
			}()
		}
	}
}

// limitConn gives its place back once, when closed.
type limitConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *limitConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}
