package chaos

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/flowbot/flowbot/adapters/feishu/feishutest"
)

// Mix is what the load generator sends. Shares are in [0, 1].
type Mix struct {
	// Events is how many event deliveries to make in all (duplicates and
	// redeliveries included); no cycle starts after that.
	Events int64
	// ByConversation is the share of filings confirmed by typing "submit"
	// (the others click the summary card's Submit button).
	ByConversation float64
	// Reject, Withdraw and Leave are the shares of requests rejected,
	// withdrawn by the applicant (over the web API) and left undecided;
	// the rest are approved.
	Reject, Withdraw, Leave float64
	// Dup is the share of events delivered twice at once (same event id);
	// DelayedDup the share delivered again up to DupDelay later (across
	// restarts).
	Dup, DelayedDup float64
	DupDelay        time.Duration
	// DoubleClick is the share of clicks made twice at once (two event ids).
	DoubleClick float64
	// Wait bounds every wait: a card to arrive, an event to be acknowledged.
	Wait time.Duration
	// PerApplicant is how many workers file for each applicant (a filing
	// and its submit are one at a time per applicant: one conversation).
	PerApplicant int
}

// DefaultMix is the mix of the chaos suite and of flowbot-load.
func DefaultMix(events int64) Mix {
	return Mix{Events: events, ByConversation: 0.3, Reject: 0.15, Withdraw: 0.1, Leave: 0.15,
		Dup: 0.15, DelayedDup: 0.15, DupDelay: 5 * time.Second, DoubleClick: 0.2, Wait: 90 * time.Second, PerApplicant: 2}
}

// Plan is what becomes of a request.
type Plan int

// The plans.
const (
	Approve Plan = iota
	Reject
	Withdraw
	Leave
)

var wantStatus = map[Plan]string{Approve: "approved", Reject: "rejected", Withdraw: "withdrawn", Leave: "pending"}

// Cycle is one expense claim from filing to its outcome.
type Cycle struct {
	K         int
	Applicant string
	Plan      Plan
	ByConv    bool
	Desc      string
	Submitted bool // the submit was acknowledged
	Instance  int64
	Number    string
	Task      int64
	Assignee  string
	Decided   bool // the decision (or withdrawal) was acknowledged
	// SubmitLate and DecisionLate: the click was acknowledged only with
	// "processing" (its handler outran Feishu's deadline and finishes in
	// the background; it is kept in the inbox first, so a kill before it
	// finishes is replayed at the restart). The report notes it on a loss.
	SubmitLate, DecisionLate bool
	Err                      string // why the cycle stopped

	start      time.Time // when its filing was first sent: no card of it is older
	ackAt      time.Time // when the submit was acknowledged
	killsAtAck int64
}

// Driver drives one flowbot over the Feishu fake and the web API.
type Driver struct {
	Fake *Fake
	// Web, when set, runs every cycle through the web playground's API
	// instead of Feishu (the users' cards arrive on their web event
	// streams; the company's users are on the web platform only).
	Web     *Web
	URL     string // flowbot's base URL
	DB      string // the SQLite file, read-only
	Mix     Mix
	Company *Company
	Stats   *Stats
	Out     io.Writer // progress lines (nil: none)

	events, acked, dups, delayedDups, doubleClicks, redelivered atomic.Int64
	kills                                                       atomic.Int64 // bumped by the chaos loop at each kill
	tryAgain                                                    atomic.Int64
	nextK                                                       atomic.Int64
	web                                                         *http.Client
	db                                                          *reader

	mu            sync.Mutex
	cycles        []*Cycle
	retryLater    time.Duration // longest stretch of 5xx answers to one event
	lateDups      sync.WaitGroup
	afterKillCard []time.Duration
}

// Run runs one worker per applicant until Mix.Events were delivered.
func (d *Driver) Run(ctx context.Context) error {
	db, err := openReader(d.DB)
	if err != nil {
		return err
	}
	d.db = db
	d.web = keepAliveClient(10 * time.Second)
	if d.Stats == nil {
		d.Stats = NewStats()
	}
	stop := make(chan struct{})
	var progress sync.WaitGroup
	progress.Go(func() { d.progress(stop) })
	var wg sync.WaitGroup
	for _, a := range d.Company.Applicants {
		filing := new(sync.Mutex)
		for range max(d.Mix.PerApplicant, 1) {
			wg.Go(func() { d.worker(ctx, a, filing) })
		}
	}
	wg.Wait()
	d.lateDups.Wait()
	close(stop)
	progress.Wait() // Out is not written to after Run returns
	return ctx.Err()
}

// Close closes the database reader.
func (d *Driver) Close() {
	if d.db != nil {
		d.db.Close()
	}
}

// NoteKill tells the driver a kill happened (for the after-kill figures).
func (d *Driver) NoteKill() { d.kills.Add(1) }

func (d *Driver) progress(stop chan struct{}) {
	if d.Out == nil {
		return
	}
	t := time.NewTicker(2 * time.Second)
	defer t.Stop()
	start := time.Now()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			ev := d.events.Load()
			fmt.Fprintf(d.Out, "\r%5.0fs  events %d/%d (%.0f/s)  acked %d  dups %d+%d  double clicks %d  redelivered %d  cycles %d   ",
				time.Since(start).Seconds(), ev, d.Mix.Events, float64(ev)/time.Since(start).Seconds(), d.acked.Load(),
				d.dups.Load(), d.delayedDups.Load(), d.doubleClicks.Load(), d.redelivered.Load(), d.nextK.Load())
		}
	}
}

func (d *Driver) chance(p float64) bool { return p > 0 && rand.Float64() < p }

func (d *Driver) worker(ctx context.Context, applicant string, filing *sync.Mutex) {
	for d.events.Load() < d.Mix.Events && ctx.Err() == nil {
		k := int(d.nextK.Add(1))
		c := &Cycle{K: k, Applicant: applicant, Desc: fmt.Sprintf("chaos-%07d", k), ByConv: d.chance(d.Mix.ByConversation)}
		switch r := rand.Float64(); {
		case r < d.Mix.Reject:
			c.Plan = Reject
		case r < d.Mix.Reject+d.Mix.Withdraw:
			c.Plan = Withdraw
		case r < d.Mix.Reject+d.Mix.Withdraw+d.Mix.Leave:
			c.Plan = Leave
		}
		d.mu.Lock()
		d.cycles = append(d.cycles, c)
		d.mu.Unlock()
		if err := d.cycle(ctx, c, filing); err != nil {
			c.Err = err.Error()
		}
	}
}

// cycle files, submits and decides one claim.
func (d *Driver) cycle(ctx context.Context, c *Cycle, filing *sync.Mutex) error {
	c.start = time.Now()
	if d.Web != nil {
		return d.webCycle(ctx, c, filing)
	}
	if err := d.file(ctx, c, filing); err != nil {
		return err
	}
	return d.decide(ctx, c)
}

// file files the claim and submits it, one filing at a time per applicant.
// Told "please try again" (the conversation state could not be read or
// written: Redis restarting), the applicant types again, as a user would.
func (d *Driver) file(ctx context.Context, c *Cycle, filing *sync.Mutex) error {
	filing.Lock()
	defer filing.Unlock()
	open := d.Company.OpenID[c.Applicant]
	text := fmt.Sprintf("/expense amount=%d category=travel description=%s", 100+c.K%900, c.Desc)
	var summary Seen
	for try := 0; ; try++ {
		sent := time.Now()
		var evID string
		if _, ok := d.event(ctx, "file (message)", func(id string) (feishutest.Result, error) {
			evID = id
			return d.Fake.TryDeliver(feishutest.Delivery{App: AppID, EventID: id, OpenID: open, ChatID: feishutest.P2PChatID(open), Text: text})
		}); !ok {
			return fmt.Errorf("filing message not acknowledged")
		}
		wctx, cancel := context.WithTimeout(ctx, d.Mix.Wait)
		m, err := d.Fake.WaitSince(wctx, open, c.start, func(m Seen) bool {
			_, ok := button(m, "submit")
			return ok && strings.Contains(m.Content, c.Desc) || tryAgainSince(m, sent)
		})
		cancel()
		if err != nil {
			return fmt.Errorf("summary card of %s never arrived: %w (event %s)", c.Desc, err, evID)
		}
		if !tryAgainSince(m, sent) {
			summary = m
			break
		}
		// The "try again" may answer another delivery of this message (a
		// duplicate handled while Redis was down) while this one's card
		// is still on its way: a user who then sees the card uses it.
		wctx, cancel = context.WithTimeout(ctx, 10*time.Second)
		m, err = d.Fake.WaitSince(wctx, open, c.start, func(m Seen) bool {
			_, ok := button(m, "submit")
			return ok && strings.Contains(m.Content, c.Desc)
		})
		cancel()
		if err == nil {
			summary = m
			break
		}
		if try >= maxTries {
			return fmt.Errorf("filing told to try again %d times", try+1)
		}
		d.tryAgain.Add(1)
		if !userPause(ctx) {
			return ctx.Err()
		}
	}
	var submitted bool
	if c.ByConv {
		for try := 0; ; try++ {
			sent := time.Now()
			var evID string
			_, submitted = d.event(ctx, "submit (typed)", func(id string) (feishutest.Result, error) {
				evID = id
				return d.Fake.TryDeliver(feishutest.Delivery{App: AppID, EventID: id, OpenID: open, ChatID: feishutest.P2PChatID(open), Text: "submit"})
			})
			c.ackAt, c.killsAtAck = time.Now(), d.kills.Load()
			if !submitted {
				return fmt.Errorf("submit not acknowledged")
			}
			found, err := d.db.instanceOr(ctx, c, func() bool { return len(d.Fake.Find(open, func(m Seen) bool { return tryAgainSince(m, sent) })) > 0 })
			if err != nil || found {
				c.Submitted = true
				if err != nil {
					return fmt.Errorf("%w (typed, event %s; shown to the applicant since: %s)", err, evID, d.shownSince(open, sent))
				}
				return nil
			}
			if try >= maxTries {
				return fmt.Errorf("typed submit told to try again %d times", try+1)
			}
			d.tryAgain.Add(1)
			if !userPause(ctx) {
				return ctx.Err()
			}
		}
	}
	val, _ := button(summary, "submit")
	var answer string
	submitted, c.SubmitLate = d.click(ctx, "submit (click)", open, summary.ID, val, nil, &answer)
	c.ackAt, c.killsAtAck = time.Now(), d.kills.Load()
	if !submitted {
		return fmt.Errorf("submit not acknowledged")
	}
	c.Submitted = true
	if err := d.db.instance(ctx, c); err != nil {
		return fmt.Errorf("%w (clicked, answered: %s)", err, answer)
	}
	return nil
}

// shownSince lists (shortened) the texts the fake showed open since t,
// for a problem line.
func (d *Driver) shownSince(open string, t time.Time) string {
	var out []string
	for _, m := range d.Fake.Find(open, func(m Seen) bool { return !m.At.Before(t) && strings.HasPrefix(m.Content, `{"text"`) }) {
		text := m.Content
		if len(text) > 120 {
			text = text[:120]
		}
		out = append(out, strconv.Quote(text))
	}
	if len(out) == 0 {
		return "nothing"
	}
	return strings.Join(out, ", ")
}

// maxTries is how often a user told "please try again" tries again, a
// second apart (userPause), before giving up: longer than a server
// restart of the run.
const maxTries = 15

// userPause waits the second a user takes to try again; false when ctx
// ended.
func userPause(ctx context.Context) bool {
	select {
	case <-ctx.Done():
		return false
	case <-time.After(time.Second):
		return true
	}
}

// refusedToast reports whether a click's toast says it was not done and
// asks the user to try again: the adapter's "something went wrong", the
// bot's "internal error" (its transaction failed: PostgreSQL restarting
// or timing out) and "cannot continue the conversation" (Redis down).
// Such a click is answered HTTP 200 (Feishu will not deliver it again);
// the user clicks again.
func refusedToast(t *feishutest.Toast) bool {
	if t == nil {
		return false
	}
	for _, text := range []string{t.Content, t.I18n["en_us"], t.I18n["zh_cn"]} {
		for _, say := range []string{tryAgainToast, stateDown, "Internal error, please try again", "系统内部错误", "系统繁忙，请稍后重试"} {
			if text != "" && strings.Contains(text, say) {
				return true
			}
		}
	}
	return false
}

// stateDown is the bot's answer to a message it could not take because
// the conversation state (Redis) could not be read or written
// (bots/messages.go "state_down"): nothing was done, the user is asked to
// try again.
const stateDown = "Cannot continue the conversation right now, please try again"

// tryAgainSince reports whether m asks the user to try again and was
// shown after t.
func tryAgainSince(m Seen, t time.Time) bool {
	return !m.At.Before(t) && strings.Contains(m.Content, stateDown)
}

// decide waits for the task card and decides (or withdraws) as planned.
func (d *Driver) decide(ctx context.Context, c *Cycle) error {
	ackAt, killsAtAck := c.ackAt, c.killsAtAck
	assignee := d.Company.OpenID[c.Assignee]
	task := strconv.FormatInt(c.Task, 10)
	wctx, cancel := context.WithTimeout(ctx, d.Mix.Wait)
	card, err := d.Fake.WaitSince(wctx, assignee, c.start, func(m Seen) bool {
		v, ok := button(m, "approve")
		return ok && valueOf(v, "task") == task
	})
	cancel()
	if err != nil {
		return fmt.Errorf("task card of task %d never arrived: %w", c.Task, err)
	}
	delay := card.At.Sub(ackAt)
	d.Stats.Add("task card delay", delay)
	if d.kills.Load() != killsAtAck {
		d.mu.Lock()
		d.afterKillCard = append(d.afterKillCard, delay)
		d.mu.Unlock()
	}
	switch c.Plan {
	case Approve:
		val, _ := button(card, "approve")
		c.Decided, c.DecisionLate = d.click(ctx, "approve (click)", assignee, card.ID, val, nil, nil)
	case Reject:
		val, _ := button(card, "reject")
		c.Decided, c.DecisionLate = d.click(ctx, "reject (click)", assignee, card.ID, val, map[string]any{"comment": "chaos: not this time"}, nil)
	case Withdraw:
		c.Decided = d.withdraw(ctx, c)
	case Leave:
		return nil
	}
	if !c.Decided {
		return fmt.Errorf("decision not acknowledged")
	}
	return nil
}

// click clicks a card button, sometimes twice at once (a double click:
// two event ids), and reports whether a click was acknowledged.
func (d *Driver) click(ctx context.Context, op, open, msgID string, val, form map[string]any, answer *string) (ok, late bool) {
	var onTime, again atomic.Bool
	var taken atomic.Int32 // answers that did not ask to try again
	var mu sync.Mutex
	push := func(id string) (feishutest.Result, error) {
		r, err := d.Fake.TryClick(feishutest.Click{App: AppID, EventID: id, OpenID: open, MessageID: msgID, Value: val, FormValue: form})
		if err == nil && r.Status == http.StatusOK && (r.Toast == nil || r.Toast.I18n["en_us"] != processingToast) {
			onTime.Store(true)
		}
		if err == nil && r.Status == http.StatusOK {
			again.Store(refusedToast(r.Toast))
			if !refusedToast(r.Toast) {
				taken.Add(1)
			}
			if answer != nil {
				a := "no toast"
				if r.Toast != nil {
					a = fmt.Sprintf("toast %s %q %q", r.Toast.Type, r.Toast.Content, r.Toast.I18n["en_us"])
				}
				mu.Lock()
				*answer = a + ", card " + r.CardType
				mu.Unlock()
			}
		}
		return r.Result, err
	}
	defer func() { late = ok && !onTime.Load() }()
	if d.chance(d.Mix.DoubleClick) {
		d.doubleClicks.Add(1)
		var oks [2]bool
		var wg sync.WaitGroup
		for i := range 2 {
			wg.Go(func() { _, oks[i] = d.event(ctx, op+" double", push) })
		}
		wg.Wait()
		if !oks[0] && !oks[1] || taken.Load() > 0 {
			return oks[0] || oks[1], false
		}
		// Both clicks were refused ("please try again"): the user clicks
		// once more, a moment later.
		if !userPause(ctx) {
			return false, false
		}
		d.tryAgain.Add(1)
	}
	// Told "please try again", a user clicks again (a new event) a
	// moment later.
	for try := 0; ; try++ {
		again.Store(false)
		if _, ok = d.event(ctx, op, push); !ok || !again.Load() {
			return ok, false
		}
		if try >= maxTries || !userPause(ctx) {
			return false, false // refused every time: not acknowledged
		}
		d.tryAgain.Add(1)
	}
}

// processingToast is the Feishu adapter's answer to a click its handler did
// not finish within Feishu's deadline: acknowledged, finished later.
const processingToast = "Processing, please wait"

// tryAgainToast is its answer to a click it could not take (held by a
// handler elsewhere, or failed): the user is asked to click again.
const tryAgainToast = "Something went wrong, please try again"

// withdraw sends "/withdraw NUMBER" as the applicant over the web API.
func (d *Driver) withdraw(ctx context.Context, c *Cycle) bool {
	_, ok := d.event(ctx, "withdraw (web)", func(id string) (feishutest.Result, error) {
		b, _ := json.Marshal(map[string]any{"id": id, "user": c.Applicant, "text": "/withdraw " + c.Number})
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.URL+"/ui/api/send", bytes.NewReader(b))
		if err != nil {
			return feishutest.Result{}, err
		}
		req.Header.Set("Content-Type", "application/json")
		resp, err := d.web.Do(req)
		if err != nil {
			return feishutest.Result{}, err
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return feishutest.Result{Status: resp.StatusCode, Body: body}, nil
	})
	return ok
}

// event delivers one event (a fresh id) the way a platform does: again
// with the same id while it is refused or cut, sometimes twice at once,
// sometimes once more later. It reports whether it was acknowledged.
func (d *Driver) event(ctx context.Context, op string, push func(id string) (feishutest.Result, error)) (feishutest.Result, bool) {
	id := "ev_chaos_" + strconv.FormatUint(rand.Uint64(), 36)
	r, ok := d.deliver(ctx, op, id, push)
	if !ok {
		return r, false
	}
	if d.chance(d.Mix.Dup) {
		d.dups.Add(1)
		d.deliver(ctx, "duplicate", id, push)
	}
	if d.chance(d.Mix.DelayedDup) {
		d.delayedDups.Add(1)
		wait := time.Duration(rand.Int64N(int64(d.Mix.DupDelay) + 1))
		d.lateDups.Go(func() {
			select {
			case <-ctx.Done():
				return
			case <-time.After(wait):
			}
			d.deliver(ctx, "late duplicate", id, push)
		})
	}
	return r, true
}

// deliver pushes the event with id until it is acknowledged (2xx) or
// Mix.Wait passed, timing the acknowledged attempt under op.
func (d *Driver) deliver(ctx context.Context, op, id string, push func(id string) (feishutest.Result, error)) (feishutest.Result, bool) {
	start := time.Now()
	var refusedSince time.Time
	for {
		d.events.Add(1)
		t0 := time.Now()
		r, err := push(id)
		if err == nil && r.Status == http.StatusOK {
			d.acked.Add(1)
			d.Stats.Add(op, time.Since(t0))
			if !refusedSince.IsZero() {
				d.noteRetryLater(time.Since(refusedSince))
			}
			return r, true
		}
		if err == nil && r.Status >= 500 && refusedSince.IsZero() {
			refusedSince = time.Now() // "retry later"
		}
		if ctx.Err() != nil || time.Since(start) > d.Mix.Wait {
			return r, false
		}
		d.redelivered.Add(1)
		select {
		case <-ctx.Done():
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func (d *Driver) noteRetryLater(w time.Duration) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.retryLater = max(d.retryLater, w)
}
