package wecom

import (
	"context"
	"strings"
	"sync"
	"time"

	"github.com/flowbot/flowbot/bots"
)

// cardStore remembers, per sent card (task_id), the response codes that
// can still update it: the send's and the clicks'. Codes are single-use
// and valid 72 h. A card's reference carries its send code too, so that a
// restarted process can still update it once.
type cardStore struct {
	mu    sync.Mutex
	tasks map[string]*cardState
}

type cardState struct {
	app, user, task, ref string
	inputs               []bots.Input
	codes                []code // unused codes, oldest first
	// next is the task of the card that replaced this one (after its
	// codes ran out), where later updates go.
	next string
}

type code struct {
	v  string
	at time.Time
}

const codeTTL = 72 * time.Hour

func newCardStore() *cardStore { return &cardStore{tasks: map[string]*cardState{}} }

func (s *cardStore) add(st *cardState) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tasks[st.task] = st
}

func (s *cardStore) byTask(task string) *cardState {
	s.mu.Lock()
	defer s.mu.Unlock()
	if st, ok := s.tasks[task]; ok {
		c := *st
		return &c
	}
	return nil
}

func (s *cardStore) taskOfRef(ref string) string {
	r, err := parseRef(ref)
	if err != nil {
		return ""
	}
	return r.task
}

// clicked records a click's response code for task.
func (s *cardStore) clicked(app, user, task, rc string, at time.Time) {
	if task == "" || rc == "" {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	st, ok := s.tasks[task]
	if !ok {
		st = &cardState{app: app, user: user, task: task}
		s.tasks[task] = st
	}
	st.codes = append(st.codes, code{v: rc, at: at})
}

// take returns the newest unused, unexpired code of the card named by r
// (following replacements), or ok false.
func (s *cardStore) take(r ref, now time.Time) (task string, c string, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, found := s.tasks[r.task]
	if !found {
		st = &cardState{app: r.app, user: r.user, task: r.task, ref: r.String()}
		if r.code != "" {
			st.codes = []code{{v: r.code, at: now}}
		}
		s.tasks[r.task] = st
	}
	for i := 0; st.next != "" && i < 100; i++ {
		n, ok := s.tasks[st.next]
		if !ok {
			break
		}
		st = n
	}
	for len(st.codes) > 0 {
		last := st.codes[len(st.codes)-1]
		st.codes = st.codes[:len(st.codes)-1]
		if now.Sub(last.at) < codeTTL {
			return st.task, last.v, true
		}
	}
	return st.task, "", false
}

// replaced records that task's card was re-sent as next.
func (s *cardStore) replaced(task, next string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if st, ok := s.tasks[task]; ok {
		st.next = next
	}
}

// ref is a message reference: "<app>|<user>|<task_id>|<send code>" for a
// card, "<app>|<user>|msg:<msgid>|" for a text.
type ref struct{ app, user, task, code string }

func (r ref) String() string { return r.app + "|" + r.user + "|" + r.task + "|" + r.code }

func parseRef(s string) (ref, error) {
	parts := strings.Split(s, "|")
	if len(parts) != 4 || parts[0] == "" || parts[1] == "" || parts[2] == "" {
		return ref{}, ErrBadRef
	}
	return ref{app: parts[0], user: parts[1], task: parts[2], code: parts[3]}, nil
}

// pending is a click waiting for its follow-up answers.
type pending struct {
	ev     bots.Event
	task   string
	inputs []bots.Input
	next   int
	asked  int
	exp    time.Time
}

// followUpStore holds one pending click per app and user.
type followUpStore struct {
	mu sync.Mutex
	m  map[string]*pending
}

func (s *followUpStore) start(app, user string, p pending, exp time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p.exp = exp
	s.m[app+"|"+user] = &p
}

// question returns the next question and its send key.
func (s *followUpStore) question(app, user string) (string, string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.m[app+"|"+user]
	if !ok || p.next >= len(p.inputs) {
		return "", "", false
	}
	p.asked++
	return question(p.inputs[p.next]), p.ev.ID + ":ask:" + p.inputs[p.next].Name + ":" + itoa(p.asked), true
}

// answer binds text to user's pending click; done is true with the event
// complete when it was the last answer. ok is false when no click waits.
func (s *followUpStore) answer(app, user, text string, now time.Time) (bots.Event, bool, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := app + "|" + user
	p, ok := s.m[k]
	if !ok {
		return bots.Event{}, false, false
	}
	if now.After(p.exp) || strings.HasPrefix(strings.TrimSpace(text), "/") {
		// Expired, or a command: the click is dropped and the text goes
		// to the bot.
		delete(s.m, k)
		return bots.Event{}, false, false
	}
	in := p.inputs[p.next]
	p.ev.Action.Inputs[in.Name] = answerValue(in, text)
	p.next++
	if p.next < len(p.inputs) {
		return bots.Event{}, false, true
	}
	delete(s.m, k)
	return p.ev, true, true
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	for n > 0 {
		b = append([]byte{byte('0' + n%10)}, b...)
		n /= 10
	}
	return string(b)
}

// queue serialises the sends to one member of one app and keeps WeCom's
// per-member limit: a send waits until fewer than PerMinute sends ended in
// the last Minute and fewer than PerHour in the last Hour. Times are taken
// when WeCom answered, so that WeCom, which counts on arrival, never sees
// more.
type queue struct {
	r  RateLimits
	mu sync.Mutex
	m  map[string]*member
}

type member struct {
	turn chan struct{} // a token: the holder sends
	done []time.Time   // ends of the sends of the last hour
}

func newQueue(r RateLimits) *queue { return &queue{r: r, m: map[string]*member{}} }

// do runs send in key's turn once the limit allows.
func (q *queue) do(ctx context.Context, key string, send func() error) error {
	q.mu.Lock()
	m, ok := q.m[key]
	if !ok {
		m = &member{turn: make(chan struct{}, 1)}
		m.turn <- struct{}{}
		q.m[key] = m
	}
	q.mu.Unlock()
	select {
	case <-m.turn:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { m.turn <- struct{}{} }()
	for {
		now := time.Now()
		wait := q.wait(m, now)
		if wait <= 0 {
			break
		}
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		}
	}
	err := send()
	m.done = append(m.done, time.Now())
	return err
}

// wait is how long m must wait at now.
func (q *queue) wait(m *member, now time.Time) time.Duration {
	// forget sends older than the hour window
	i := 0
	for i < len(m.done) && now.Sub(m.done[i]) >= q.r.Hour {
		i++
	}
	m.done = m.done[i:]
	var wait time.Duration
	if n := len(m.done); n >= q.r.PerHour {
		wait = max(wait, m.done[n-q.r.PerHour].Add(q.r.Hour).Sub(now))
	}
	if n := len(m.done); n >= q.r.PerMinute {
		wait = max(wait, m.done[n-q.r.PerMinute].Add(q.r.Minute).Sub(now))
	}
	return wait
}
