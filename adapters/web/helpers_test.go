package web_test

import (
	"bufio"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/adapters/web"
	"github.com/flowbot/flowbot/bots"
)

// fakeHandler records events and answers with HandleFunc.
type fakeHandler struct {
	HandleFunc func(ctx context.Context, ev bots.Event) (bots.Reply, error)

	mu     sync.Mutex
	events []bots.Event
}

func (f *fakeHandler) Handle(ctx context.Context, ev bots.Event) (bots.Reply, error) {
	f.mu.Lock()
	f.events = append(f.events, ev)
	f.mu.Unlock()
	if f.HandleFunc == nil {
		return bots.Reply{}, nil
	}
	return f.HandleFunc(ctx, ev)
}

func (f *fakeHandler) Events() []bots.Event {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]bots.Event(nil), f.events...)
}

type testBundle struct {
	adapter *web.Adapter
	handler *fakeHandler
	srv     *httptest.Server
}

func setup(t *testing.T, cfg web.Config) *testBundle {
	t.Helper()
	h := &fakeHandler{}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Handler == nil {
		cfg.Handler = h
	}
	a := web.New(cfg)
	srv := httptest.NewServer(a.Handler())
	t.Cleanup(srv.Close)
	return &testBundle{adapter: a, handler: h, srv: srv}
}

// wireMessage is the page's view of a chat message.
type wireMessage struct {
	ID   string    `json:"id"`
	User string    `json:"user"`
	From string    `json:"from"`
	Text string    `json:"text"`
	Card *wireCard `json:"card"`
	Rev  int       `json:"rev"`
}

type wireCard struct {
	Title    string `json:"title"`
	Color    string `json:"color"`
	Markdown string `json:"markdown"`
	Note     string `json:"note"`
	Fields   []struct {
		Label string `json:"label"`
		Value string `json:"value"`
	} `json:"fields"`
	Inputs []struct {
		Name string `json:"name"`
	} `json:"inputs"`
	Buttons []struct {
		Label  string            `json:"label"`
		Action string            `json:"action"`
		Value  map[string]string `json:"value"`
		Style  string            `json:"style"`
	} `json:"buttons"`
}

type replyResponse struct {
	Me       *wireMessage  `json:"me"`
	Messages []wireMessage `json:"messages"`
	Toast    string        `json:"toast"`
	Updated  *wireMessage  `json:"updated"`
	Error    string        `json:"error"`
}

// do sends a request and decodes a JSON answer into out (if not nil).
func do(t *testing.T, method, url, body string, out any) *http.Response {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	require.NoError(t, err)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	if out != nil {
		require.NoError(t, json.NewDecoder(resp.Body).Decode(out))
	}
	return resp
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return string(b)
}

func history(t *testing.T, base, user string) []wireMessage {
	t.Helper()
	var h struct {
		Messages []wireMessage `json:"messages"`
	}
	resp := do(t, http.MethodGet, base+"/api/history?user="+user, "", &h)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	return h.Messages
}

type sseEvent struct {
	Name string
	Data string
}

// openEvents subscribes to user's event stream; events arrive on the
// returned channel. It returns once the stream is open.
func openEvents(t *testing.T, base, user string) <-chan sseEvent {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/api/events?user="+user, nil)
	require.NoError(t, err)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, "text/event-stream", resp.Header.Get("Content-Type"))
	ch := make(chan sseEvent, 16)
	go func() {
		defer resp.Body.Close()
		defer close(ch)
		sc := bufio.NewScanner(resp.Body)
		var ev sseEvent
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "":
				if ev.Name != "" {
					ch <- ev
				}
				ev = sseEvent{}
			case strings.HasPrefix(line, "event: "):
				ev.Name = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "data: "):
				ev.Data = strings.TrimPrefix(line, "data: ")
			}
		}
	}()
	return ch
}

func nextEvent(t *testing.T, ch <-chan sseEvent) (string, wireMessage) {
	t.Helper()
	select {
	case ev, ok := <-ch:
		require.True(t, ok, "event stream closed")
		var m wireMessage
		require.NoError(t, json.Unmarshal([]byte(ev.Data), &m))
		return ev.Name, m
	case <-time.After(5 * time.Second):
		t.Fatal("no event within 5s")
		return "", wireMessage{}
	}
}

func postJSON(t *testing.T, url string, v any, out any) *http.Response {
	t.Helper()
	return do(t, http.MethodPost, url, mustJSON(t, v), out)
}

func newRecorder() *httptest.ResponseRecorder { return httptest.NewRecorder() }
