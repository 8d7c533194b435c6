package chaos

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	neturl "net/url"
	"strings"
	"sync"
	"time"

	"github.com/flowbot/flowbot/adapters/feishu/feishutest"
)

// Web is the web playground's API driven as browsers drive it: one
// event stream (ui/api/events) open per user, messages typed with
// ui/api/send, card buttons clicked with ui/api/action. Every message a
// user's stream (or a send's answer) shows lands in an inbox the cycles
// wait on, signalled like the Feishu fake's.
type Web struct {
	url    string // flowbot's base URL
	client *http.Client
	stream *http.Client // no timeout: a stream lasts the run

	mu     sync.Mutex
	box    inbox
	ids    map[string]bool // message ids shown (a reconnect reloads the history)
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// webMessage is a message of the playground's wire form (adapters/web).
type webMessage struct {
	ID   string `json:"id"`
	User string `json:"user"`
	From string `json:"from"`
	Text string `json:"text"`
	Card *struct {
		Title   string `json:"title"`
		Buttons []struct {
			Label  string            `json:"label"`
			Action string            `json:"action"`
			Value  map[string]string `json:"value"`
		} `json:"buttons"`
	} `json:"card"`
}

// webReply is the answer to ui/api/send and ui/api/action.
type webReply struct {
	Messages []json.RawMessage `json:"messages"`
	Toast    string            `json:"toast"`
}

// OpenWeb opens an event stream for each of users on the flowbot at url
// and returns once every stream is open (no card sent after it can be
// missed).
func OpenWeb(ctx context.Context, url string, users []string) (*Web, error) {
	ctx, cancel := context.WithCancel(ctx)
	w := &Web{url: url, client: keepAliveClient(10 * time.Second), box: newInbox(), ids: map[string]bool{}, cancel: cancel}
	w.stream = keepAliveClient(0)
	open := make(chan error, len(users))
	for _, u := range users {
		w.wg.Go(func() { w.follow(ctx, u, open) })
	}
	for range users {
		select {
		case err := <-open:
			if err != nil {
				w.Close()
				return nil, err
			}
		case <-time.After(30 * time.Second):
			w.Close()
			return nil, fmt.Errorf("chaos: web event streams did not open within 30s")
		}
	}
	return w, nil
}

// Close closes the streams.
func (w *Web) Close() {
	w.cancel()
	w.wg.Wait()
}

// follow reads user's event stream, reopening it (and reloading the
// history, for what it missed) when the server drops it.
func (w *Web) follow(ctx context.Context, user string, open chan<- error) {
	first := true
	for ctx.Err() == nil {
		err := w.read(ctx, user, func() {
			if first {
				open <- nil
				first = false
			} else {
				w.reload(ctx, user)
			}
		})
		if first {
			open <- fmt.Errorf("chaos: open the web event stream of %s: %w", user, err)
			return
		}
		select {
		case <-ctx.Done():
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// read reads one connection of user's stream; opened is called once the
// stream answered.
func (w *Web) read(ctx context.Context, user string, opened func()) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, w.url+"/ui/api/events?user="+neturl.QueryEscape(user), nil)
	if err != nil {
		return err
	}
	resp, err := w.stream.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("status %s", resp.Status)
	}
	opened()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	var name string
	for sc.Scan() {
		line := sc.Bytes()
		switch {
		case len(line) == 0:
			name = ""
		case bytes.HasPrefix(line, []byte("event: ")):
			name = string(line[len("event: "):])
		case bytes.HasPrefix(line, []byte("data: ")) && name == "message":
			w.show(user, line[len("data: "):])
		}
	}
	return sc.Err()
}

// reload adds the messages of user's history not shown yet.
func (w *Web) reload(ctx context.Context, user string) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, w.url+"/ui/api/history?user="+neturl.QueryEscape(user), nil)
	if err != nil {
		return
	}
	resp, err := w.client.Do(req)
	if err != nil {
		return
	}
	defer resp.Body.Close()
	var h struct {
		Messages []json.RawMessage `json:"messages"`
	}
	if json.NewDecoder(resp.Body).Decode(&h) == nil {
		for _, m := range h.Messages {
			w.show(user, m)
		}
	}
}

// show adds the wire message raw to user's inbox unless it was shown
// already (its stream and a send's answer both carry the bot's reply).
func (w *Web) show(user string, raw []byte) (Seen, bool) {
	var m webMessage
	if json.Unmarshal(raw, &m) != nil || m.ID == "" || m.From != "bot" {
		return Seen{}, false
	}
	s := Seen{Message: feishutest.Message{ID: m.ID, ChatID: user, Content: string(raw)}, At: time.Now()}
	if m.Card != nil {
		s.MsgType = "interactive"
		for _, b := range m.Card.Buttons {
			v := map[string]any{}
			for k, x := range b.Value {
				v[k] = x
			}
			// The Feishu adapter's value form ("a" the action, "v" the
			// button's value): button and valueOf read both alike.
			s.Buttons = append(s.Buttons, feishutest.Button{Label: b.Label, Name: b.Action, Value: map[string]any{"a": b.Action, "v": v}})
		}
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.ids[m.ID] {
		return s, true
	}
	w.ids[m.ID] = true
	w.box.add(user, s)
	return s, true
}

// WaitSince waits until a message shown to user at or after since
// matches and returns it.
func (w *Web) WaitSince(ctx context.Context, user string, since time.Time, match func(Seen) bool) (Seen, error) {
	return waitIn(ctx, &w.mu, &w.box, user, since, match)
}

// Find returns the messages shown to user that match.
func (w *Web) Find(user string, match func(Seen) bool) []Seen {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.box.find(user, match)
}

// all returns every message shown, per user.
func (w *Web) all(visit func(Seen)) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.box.each(visit)
}

// post sends body to the playground's API path as user and returns the
// answer; the messages of a 200 answer are shown in user's inbox.
func (w *Web) post(ctx context.Context, path, user string, body any) (feishutest.Result, []Seen, string, error) {
	b, err := json.Marshal(body)
	if err != nil {
		return feishutest.Result{}, nil, "", err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.url+"/ui/api/"+path, bytes.NewReader(b))
	if err != nil {
		return feishutest.Result{}, nil, "", err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := w.client.Do(req)
	if err != nil {
		return feishutest.Result{}, nil, "", err
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		return feishutest.Result{}, nil, "", err
	}
	r := feishutest.Result{Status: resp.StatusCode, Body: out}
	if resp.StatusCode != http.StatusOK {
		return r, nil, "", nil
	}
	var rep webReply
	if err := json.Unmarshal(out, &rep); err != nil {
		return r, nil, "", fmt.Errorf("decode the answer to %s: %w", path, err)
	}
	var shown []Seen
	for _, m := range rep.Messages {
		if s, ok := w.show(user, m); ok {
			shown = append(shown, s)
		}
	}
	return r, shown, rep.Toast, nil
}

// refusedText reports whether a toast asks the user to try again.
func refusedText(toast string) bool {
	return toast != "" && refusedToast(&feishutest.Toast{Content: toast})
}

// contains reports whether m's content has s.
func contains(m Seen, s string) bool { return strings.Contains(m.Content, s) }
