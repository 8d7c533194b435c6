package web_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/flowbot/flowbot/adapters/web"
	"github.com/flowbot/flowbot/bots"
)

// FuzzAPI feeds arbitrary bodies to the JSON endpoints: the answer is always
// a clear 2xx/4xx (never a panic or a 5xx), and the history only grows for
// accepted sends.
func FuzzAPI(f *testing.F) {
	f.Add(uint8(0), `{"id":"a","user":"emp","text":"请假"}`)
	f.Add(uint8(1), `{"user":"emp","message_id":"x-1","action":"approve","value":{"task":"1"},"inputs":{"reason":"ok"}}`)
	f.Add(uint8(2), `{"advance":"1h"}`)
	f.Add(uint8(0), `{"user":"emp","text":"\u0000"}`)
	f.Add(uint8(1), `{"user":"","action":null}`)
	f.Add(uint8(0), `{"user":"e\nmp","text":"x"} trailing`)
	handler := &fakeHandler{HandleFunc: func(ctx context.Context, ev bots.Event) (bots.Reply, error) {
		return bots.Reply{Toast: "ok", Messages: []bots.Message{{Text: ev.Text}}}, nil
	}}
	a := web.New(web.Config{
		Handler: handler, Demo: true, Logger: slog.New(slog.DiscardHandler),
		Advance: func(ctx context.Context, d time.Duration) (time.Time, error) { return time.Unix(0, 0).Add(d), nil },
	})
	h := a.Handler()
	routes := []string{"/api/send", "/api/action", "/api/clock"}
	f.Fuzz(func(t *testing.T, route uint8, body string) {
		path := routes[int(route)%len(routes)]
		req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			b, _ := io.ReadAll(rec.Body)
			t.Fatalf("POST %s %q: got %d %s, want < 500", path, body, rec.Code, b)
		}
	})
}
