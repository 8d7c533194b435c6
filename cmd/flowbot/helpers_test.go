package main

// Helpers shared by the tests of cmd/flowbot: a playground client speaking
// the JSON of adapters/web (its own copy of the wire types: the adapter's
// are unexported), an in-process app on a free port, and small file helpers.
//
// The tests are in package main because the command's entry points (run,
// newApp, app.serve) are unexported; they use nothing else of it.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// The people of the stories, from examples/org.yaml: 韩梅梅 reports to 李雷,
// who reports to 王总; 陈静 is HR.
const (
	applicant = "hanmeimei"
	approver  = "lilei"
)

// pgMsg, pgCard and pgButton mirror the playground's JSON (adapters/web wire.go).
type pgMsg struct {
	ID   string  `json:"id"`
	User string  `json:"user"`
	From string  `json:"from"`
	Text string  `json:"text"`
	Card *pgCard `json:"card"`
	Rev  int     `json:"rev"`
}

type pgCard struct {
	Title  string `json:"title"`
	Color  string `json:"color"`
	Fields []struct {
		Label string `json:"label"`
		Value string `json:"value"`
	} `json:"fields"`
	Markdown string     `json:"markdown"`
	Buttons  []pgButton `json:"buttons"`
	Note     string     `json:"note"`
}

type pgButton struct {
	Label  string            `json:"label"`
	Action string            `json:"action"`
	Value  map[string]string `json:"value"`
}

// pgReply is the answer of api/send and api/action (or an error body).
type pgReply struct {
	Me       *pgMsg  `json:"me"`
	Messages []pgMsg `json:"messages"`
	Toast    string  `json:"toast"`
	Updated  *pgMsg  `json:"updated"`
	Error    string  `json:"error"`
}

// text is everything a person reads in the message.
func (m pgMsg) text() string {
	if m.Card == nil {
		return m.Text
	}
	var sb strings.Builder
	sb.WriteString(m.Text + "\n" + m.Card.Title + "\n")
	for _, f := range m.Card.Fields {
		sb.WriteString(f.Label + ": " + f.Value + "\n")
	}
	sb.WriteString(m.Card.Markdown + "\n" + m.Card.Note)
	return sb.String()
}

// button returns the card's button for action.
func (m pgMsg) button(action string) (pgButton, bool) {
	if m.Card == nil {
		return pgButton{}, false
	}
	for _, b := range m.Card.Buttons {
		if b.Action == action {
			return b, true
		}
	}
	return pgButton{}, false
}

// lastWith is the newest message of msgs with a button for action whose
// text contains every one of subs.
func lastWith(msgs []pgMsg, action string, subs ...string) (pgMsg, bool) {
	for i := len(msgs) - 1; i >= 0; i-- {
		if _, ok := msgs[i].button(action); ok && containsAll(msgs[i].text(), subs) {
			return msgs[i], true
		}
	}
	return pgMsg{}, false
}

func containsAll(s string, subs []string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}

// numberRE finds a request number in a toast or card (LEAVE-20261126-0007).
var numberRE = regexp.MustCompile(`\b[A-Z]+-\d{8}-\d{4,}\b`)

var eventSeq atomic.Int64

// playground calls the web adapter's API of a running flowbot.
type playground struct {
	base string // http://host:port
	hc   *http.Client
}

func newPlayground(base string) *playground {
	return &playground{base: base, hc: &http.Client{Timeout: 20 * time.Second}}
}

// post sends v as JSON to path and decodes the answer into out.
func (p *playground) post(ctx context.Context, path string, v, out any) (int, error) {
	body, err := json.Marshal(v)
	if err != nil {
		return 0, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.base+path, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	return p.do(req, out)
}

func (p *playground) get(ctx context.Context, path string, out any) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.base+path, nil)
	if err != nil {
		return 0, err
	}
	return p.do(req, out)
}

func (p *playground) do(req *http.Request, out any) (int, error) {
	resp, err := p.hc.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp.StatusCode, err
	}
	if out != nil && len(b) > 0 {
		if err := json.Unmarshal(b, out); err != nil {
			return resp.StatusCode, fmt.Errorf("decode %s %s: %w: %s", req.Method, req.URL.Path, err, b)
		}
	}
	return resp.StatusCode, nil
}

// trySend types text as user; it returns the status and the reply.
func (p *playground) trySend(ctx context.Context, user, text string) (int, pgReply, error) {
	var r pgReply
	code, err := p.post(ctx, "/ui/api/send", map[string]string{
		"id": fmt.Sprint("ev-", eventSeq.Add(1)), "user": user, "text": text,
	}, &r)
	return code, r, err
}

// tryClick clicks action on card message m as user, with the button's value.
func (p *playground) tryClick(ctx context.Context, user string, m pgMsg, action string, inputs map[string]string) (int, pgReply, error) {
	b, ok := m.button(action)
	if !ok {
		return 0, pgReply{}, fmt.Errorf("message %s has no %s button", m.ID, action)
	}
	var r pgReply
	code, err := p.post(ctx, "/ui/api/action", map[string]any{
		"id": fmt.Sprint("ev-", eventSeq.Add(1)), "user": user, "message_id": m.ID,
		"action": b.Action, "value": b.Value, "inputs": inputs,
	}, &r)
	return code, r, err
}

func (p *playground) tryHistory(ctx context.Context, user string) ([]pgMsg, error) {
	var h struct {
		Messages []pgMsg `json:"messages"`
	}
	code, err := p.get(ctx, "/ui/api/history?user="+url.QueryEscape(user), &h)
	if err == nil && code != http.StatusOK {
		err = fmt.Errorf("history of %s: status %d", user, code)
	}
	return h.Messages, err
}

func (p *playground) send(t testing.TB, user, text string) pgReply {
	t.Helper()
	code, r, err := p.trySend(context.Background(), user, text)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, code, "send %q as %s: %s", text, user, r.Error)
	return r
}

func (p *playground) click(t testing.TB, user string, m pgMsg, action string, inputs map[string]string) pgReply {
	t.Helper()
	code, r, err := p.tryClick(context.Background(), user, m, action, inputs)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, code, "click %s as %s: %s", action, user, r.Error)
	return r
}

func (p *playground) history(t testing.TB, user string) []pgMsg {
	t.Helper()
	msgs, err := p.tryHistory(context.Background(), user)
	require.NoError(t, err)
	return msgs
}

// waitHistory polls user's chat until a message with a button for action
// and every one of subs arrives (the notifier delivers asynchronously).
func (p *playground) waitHistory(t testing.TB, user, action string, subs ...string) pgMsg {
	t.Helper()
	var msgs []pgMsg
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		msgs = p.history(t, user)
		if m, ok := lastWith(msgs, action, subs...); ok {
			return m
		}
		time.Sleep(20 * time.Millisecond) // polling interval, bounded by the deadline
	}
	var seen []string
	for _, m := range msgs {
		seen = append(seen, m.text())
	}
	t.Fatalf("%s never got a card with a %q button mentioning %q; got:\n%s", user, action, subs, strings.Join(seen, "\n---\n"))
	return pgMsg{}
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond) // polling interval, bounded by the deadline
	}
}

// leavePeriod is a two-working-day period (Monday and Tuesday) at least a
// week ahead, so the leave flow asks only the manager.
func leavePeriod(weeksAhead int) string {
	d := time.Now().AddDate(0, 0, 7*weeksAhead+7)
	for d.Weekday() != time.Monday {
		d = d.AddDate(0, 0, 1)
	}
	return d.Format("2006-01-02") + "~" + d.AddDate(0, 0, 1).Format("2006-01-02")
}

// fileLeave files a leave request through the conversation, as a person
// does in the playground: 请假, the questions, then Submit on the summary.
// It returns the request number from the toast.
func fileLeave(t testing.TB, p *playground, user, period, reason string) string {
	t.Helper()
	r := p.send(t, user, "请假")
	require.NotEmpty(t, r.Messages, "the bot asks the first question")
	p.send(t, user, "1") // first option: annual leave
	p.send(t, user, period)
	r = p.send(t, user, reason)
	summary, ok := lastWith(r.Messages, "submit")
	require.True(t, ok, "after the last answer the bot shows a summary with Submit; got %+v", r.Messages)
	require.Contains(t, summary.text(), reason)
	r = p.click(t, user, summary, "submit", nil)
	number := numberRE.FindString(r.Toast)
	require.NotEmpty(t, number, "the toast of Submit names the request: %q", r.Toast)
	return number
}

// syncBuffer is a goroutine-safe log sink, shown when a test fails.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// dumpOnFailure logs what was written to buf if the test fails.
func dumpOnFailure(t testing.TB, name string, buf *syncBuffer) {
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("%s:\n%s", name, buf.String())
		}
	})
}

// testConfig is the default config on a fresh SQLite file in dir, with a
// quick notifier.
func testConfig(dir string) Config {
	cfg := DefaultConfig()
	cfg.Database.SQLite = filepath.Join(dir, "flowbot.db")
	cfg.HTTP.ShutdownTimeout = 5 * time.Second
	cfg.Notifier.Poll = 50 * time.Millisecond
	cfg.Log.Level = "warn"
	cfg.Playground.Demo = true // the tests act as anyone through the playground
	return cfg
}

// running is an in-process flowbot serving on a loopback port.
type running struct {
	app    *app
	base   string
	cancel context.CancelFunc
	done   chan error // serve's result
	pg     *playground
}

// startApp builds the app with newApp and serves it on 127.0.0.1:0 until
// the test ends (or stop is called).
func startApp(t testing.TB, cfg Config) *running {
	t.Helper()
	logs := &syncBuffer{}
	dumpOnFailure(t, "flowbot log", logs)
	a, err := newApp(context.Background(), cfg, logs)
	require.NoError(t, err)
	t.Cleanup(a.close)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{app: a, base: "http://" + ln.Addr().String(), cancel: cancel, done: make(chan error, 1)}
	r.pg = newPlayground(r.base)
	go func() { r.done <- a.serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-r.done:
		case <-time.After(cfg.HTTP.ShutdownTimeout + 5*time.Second):
			t.Errorf("serve did not return after its context was cancelled")
		}
	})
	return r
}

// moduleRoot is the folder of go.mod above the working directory.
func moduleRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	require.NoError(t, err)
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		} else if !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("look for go.mod: %v", err)
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the working directory")
		}
		dir = parent
	}
}

// writeFile writes content to dir/name and returns the path.
func writeFile(t testing.TB, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
	require.NoError(t, os.WriteFile(p, []byte(content), 0o644))
	return p
}
