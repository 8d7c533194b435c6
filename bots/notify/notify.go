package notify

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/flowbot/flowbot/bots"
	"github.com/flowbot/flowbot/flows"
)

// Renderer turns an outbox message into the chat message for one
// recipient, in the recipient's locale (the bot implements it).
type Renderer interface {
	Render(ctx context.Context, m *flows.OutboxMessage, to *flows.User) (bots.Message, error)
}

// HTTPRunner runs the http step an outbox message of kind http names (the
// engine implements it; it retries inside).
type HTTPRunner interface {
	RunHTTP(ctx context.Context, m *flows.OutboxMessage) error
}

// Metrics counts deliveries; the lead wires Prometheus. Optional.
type Metrics interface {
	// Delivered counts a message accepted by platform ("http" for steps).
	Delivered(platform string)
	// Failed counts a failed send or update on platform.
	Failed(platform string)
}

// DefaultBackoff returns the default waits before the retries of a failed
// message: 1s, 5s, 30s, 2m, 10m, 30m.
func DefaultBackoff() []time.Duration {
	return []time.Duration{time.Second, 5 * time.Second, 30 * time.Second, 2 * time.Minute, 10 * time.Minute, 30 * time.Minute}
}

// PlatformOrder returns the order in which a user's platforms are used.
func PlatformOrder() []string { return []string{"feishu", "wecom", "dingtalk", "teams", "web"} }

// ClaimExtender is an optional interface of the Store: ExtendClaim moves
// the lease of a message this notifier claimed from its current end from
// to to (to <= now gives it back), and reports false when the claim is no
// longer the caller's. With it, claims are short and renewed while a
// message is being sent, so that the messages of a killed process are
// taken over within seconds.
type ClaimExtender interface {
	ExtendClaim(ctx context.Context, id int64, from, to time.Time) (bool, error)
}

// DeliveryRecorder is an optional interface of the Store:
// MarkDeliveredWithRefs marks message id delivered and records the refs of
// the cards it sent in one write. With it, a delivery is recorded in one
// transaction instead of one per card plus one (both stores have it).
type DeliveryRecorder interface {
	MarkDeliveredWithRefs(ctx context.Context, id int64, at time.Time, refs []*flows.MessageRef) error
}

// Config configures a Notifier.
type Config struct {
	Store    flows.Store
	Renderer Renderer
	// Messengers by platform name ("feishu", "wecom", "dingtalk", "teams", "web").
	Messengers map[string]bots.Messenger
	HTTP       HTTPRunner
	Clock      func() time.Time // default time.Now
	// Backoff is the wait before retry i (default DefaultBackoff); a
	// message is tried len(Backoff)+1 times, then marked failed.
	Backoff []time.Duration
	// Lease is how long a claim lasts unless renewed (default
	// DefaultLease). With a ClaimExtender store it is renewed every
	// Lease/3 while the message is being sent, so after a crash what the
	// dead process held waits at most this long; without one, a message
	// must be finished within ¾ of it.
	Lease time.Duration
	// SendTimeout bounds one delivery attempt when claims are renewed
	// (default 1m): a send stuck longer is retried later.
	SendTimeout time.Duration
	Batch       int           // most messages claimed at once (default 50)
	Workers     int           // messages delivered in parallel (default 4)
	Poll        time.Duration // Run's wait when the outbox is empty (default 1s)
	Logger      *slog.Logger
	Metrics     Metrics
	// PreferredPlatform returns the platform keys of User.Platforms to
	// send to (default: every one whose platform has a Messenger, in
	// PlatformOrder). A key is a platform name, optionally qualified by
	// app: "feishu:cli_a1".
	PreferredPlatform func(*flows.User) []string
	// OnePlatform sends each message to one platform only: the one the
	// recipient chose with /prefer (Prefs) when they are reachable there,
	// else the first of Order they are reachable on. Card updates still
	// reach every copy on every platform. Default: every platform
	// (PreferredPlatform).
	OnePlatform bool
	// Prefs gives each user's preferred platform (OnePlatform).
	Prefs Preferences
	// Order is the platform order of OnePlatform (default PlatformOrder).
	Order []string
}

// Preferences gives the platform a user prefers ("" = none).
type Preferences interface {
	Preference(ctx context.Context, user string) (string, error)
}

// DefaultLease is how long a claimed message is held by its claimer
// without renewal.
const DefaultLease = 6 * time.Second

// Notifier drains the outbox.
type Notifier struct {
	cfg   Config
	log   *slog.Logger
	ext   ClaimExtender    // nil: claims are not renewed
	rec   DeliveryRecorder // nil: refs and the delivery are written one by one
	kick  chan struct{}
	nudge chan struct{} // Nudge: messages were handed over (take.go)
	quit  chan time.Duration
	once  sync.Once
	// share lets the renders of messages claimed together (a decision's
	// notice and its card update) share one read of their request.
	share *bots.ViewShare
	// live is Run's pool while it runs, for Take (take.go).
	live atomic.Pointer[pool]
	// takes: a store has asked Take; missed: Take left a message due
	// since the last claim.
	takes, missed atomic.Bool
}

// New returns a notifier over cfg.Store.
func New(cfg Config) *Notifier {
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	if len(cfg.Backoff) == 0 {
		cfg.Backoff = DefaultBackoff()
	}
	cfg.Lease = cmp.Or(cfg.Lease, DefaultLease)
	cfg.SendTimeout = cmp.Or(cfg.SendTimeout, time.Minute)
	cfg.Batch = cmp.Or(cfg.Batch, 50)
	cfg.Workers = cmp.Or(cfg.Workers, 4)
	cfg.Poll = cmp.Or(cfg.Poll, time.Second)
	n := &Notifier{cfg: cfg, log: cmp.Or(cfg.Logger, slog.Default()).WithGroup("notify"), kick: make(chan struct{}, 1), nudge: make(chan struct{}, 1), quit: make(chan time.Duration, 1),
		share: bots.NewViewShare()}
	n.ext, _ = cfg.Store.(ClaimExtender)
	n.rec, _ = cfg.Store.(DeliveryRecorder)
	if n.cfg.PreferredPlatform == nil {
		n.cfg.PreferredPlatform = n.defaultPlatforms
	}
	return n
}

// MaxAttempts is how often a message is tried before it is marked failed.
func (n *Notifier) MaxAttempts() int { return len(n.cfg.Backoff) + 1 }

// Kick wakes Run early (call it after an engine call wrote messages). It
// never blocks.
func (n *Notifier) Kick() {
	select {
	case n.kick <- struct{}{}:
	default:
	}
}

// Run drains the outbox until ctx ends. There is no batch barrier: it
// claims as many due messages as it has free workers, starts each at
// once, and claims again as soon as one finishes when its last claim was
// cut by the free workers, so a slow send (a platform's rate limit, a slow
// ERP) holds one worker, not the messages behind it. It waits for Poll or a
// Kick when the outbox had nothing more due.
// Errors of the store are logged and retried after Poll. When ctx ends,
// the messages in flight are cut off and their claims given back.
func (n *Notifier) Run(ctx context.Context) error {
	wctx, cancelWork := context.WithCancel(ctx) // the workers'
	p := &pool{n: n, ctx: wctx, free: make(chan struct{}, n.cfg.Workers), done: make(chan struct{}, 1),
		handed: make(chan *claim, n.cfg.Batch)}
	for range n.cfg.Workers {
		p.free <- struct{}{}
	}
	n.live.Store(p)
	defer func() {
		// No more reservations; those out are settled by the writes
		// holding them, then every worker (cut off) has given its claim
		// back.
		p.mu.Lock()
		p.closed = true
		p.mu.Unlock()
		cancelWork()
		p.taking.Wait()
		n.live.Store(nil)
		for len(p.handed) > 0 {
			c := <-p.handed
			p.wg.Go(func() { _ = n.handle(wctx, c) }) // cut off: gives its claim back
		}
		p.wg.Wait()
	}()
	var stopAt <-chan time.Time // set by Stop: the end of the grace period
	stopping := func(grace time.Duration) bool {
		if grace <= 0 {
			return true
		}
		t := time.NewTimer(grace)
		stopAt = t.C
		return false
	}
	// due says that messages may be due that were not claimed: at the
	// start, after a Kick or a Poll, and when a claim got all it asked
	// for. A worker finishing claims again only then: after a claim that
	// got less than it asked, nothing is due until a Kick or a Poll, and
	// an empty claim is a write transaction.
	due := true
	var claimed time.Time // the last claim's start
	for {
		if stopAt == nil {
			select {
			case grace := <-n.quit:
				if stopping(grace) {
					return nil
				}
			default:
			}
		}
		want := min(len(p.free), n.cfg.Batch)
		got := 0
		if time.Since(claimed) >= n.cfg.Poll {
			due = true // as a Poll would, however often workers finished since
		}
		if want > 0 && (due || stopAt != nil) {
			claimed = time.Now()
			n.missed.Store(false) // this claim finds what Take left due
			var err error
			got, err = p.claim(wctx, want)
			if err != nil && wctx.Err() == nil {
				n.log.ErrorContext(ctx, "claim outbox", "err", err)
			}
			due = got == want || err != nil
			if got == want && err == nil && len(p.free) > 0 {
				continue // more may be due
			}
		}
		// The messages handed over get the workers a due claim left: a
		// claim comes first, or under a steady flow of handed messages
		// the due ones (retries, what was left at a restart) would wait
		// for a lull.
		p.drainHanded()
		if stopAt != nil && got < want && p.busy() == 0 && len(p.handed) == 0 {
			return nil // stopping, and nothing is due or in flight
		}
		// Every worker busy: a finished one wakes us. Else the outbox had
		// nothing due: wait for Poll or a Kick.
		var poll *time.Timer
		var wake <-chan time.Time
		if len(p.free) > 0 {
			poll = time.NewTimer(n.cfg.Poll)
			wake = poll.C
		}
		quit := n.quit
		if stopAt != nil {
			quit = nil
		}
		stop := false
		select {
		case <-ctx.Done():
			stop = true
		case <-n.kick:
			due = true
		case <-n.nudge: // messages were handed over: started at the top
		case <-wake:
			due = true
		case <-p.done:
		case <-stopAt:
			n.log.WarnContext(ctx, "grace period over with messages still due or in flight: their claims are given back for another replica or the next start")
			stop = true
		case grace := <-quit:
			stop = stopping(grace)
		}
		if poll != nil {
			poll.Stop()
		}
		if stop {
			return nil
		}
	}
}

// pool is Run's set of workers.
type pool struct {
	n    *Notifier
	ctx  context.Context // the workers'
	free chan struct{}   // one token per idle worker
	done chan struct{}   // signalled when a worker finishes
	wg   sync.WaitGroup

	// Messages taken as they were written (take.go).
	handed chan *claim    // committed, waiting for a worker
	taking sync.WaitGroup // reservations not yet Taken or Untaken
	mu     sync.Mutex
	closed bool // Run is ending: Take reserves nothing more
	slots  int  // places in handed held by reservations
}

// drainHanded starts idle workers on the messages handed over (take.go),
// as far as workers are free.
func (p *pool) drainHanded() {
	for len(p.handed) > 0 {
		select {
		case <-p.free:
		default:
			return
		}
		select {
		case c := <-p.handed:
			p.work(c)
		default: // only Run takes from handed: not reached
			p.finished()
			return
		}
	}
}

func (p *pool) busy() int { return p.n.cfg.Workers - len(p.free) }

// claim claims up to want messages and starts a worker on each.
func (p *pool) claim(ctx context.Context, want int) (int, error) {
	ms, err := p.n.cfg.Store.ClaimOutbox(ctx, p.n.cfg.Clock(), want, p.n.cfg.Lease)
	if err != nil {
		return 0, fmt.Errorf("drain outbox: %w", err)
	}
	mark := p.n.share.Mark() // every message of ms is committed
	for _, m := range ms {
		<-p.free
		p.start(m, mark)
	}
	return len(ms), nil
}

// start delivers m on a worker whose free token was taken.
func (p *pool) start(m *flows.OutboxMessage, mark int64) {
	c := p.n.hold(p.ctx, m)
	c.mark = mark
	p.work(c)
}

// work delivers c on a worker whose free token was taken, and gives the
// token back.
func (p *pool) work(c *claim) {
	p.wg.Go(func() {
		defer p.finished()
		if err := p.n.handle(p.ctx, c); err != nil {
			p.n.log.ErrorContext(p.ctx, "record delivery", "err", err)
		}
	})
}

// finished gives a worker's token back and wakes Run.
func (p *pool) finished() {
	p.free <- struct{}{}
	select {
	case p.done <- struct{}{}:
	default:
	}
}

// Stop asks Run to finish gracefully: it goes on claiming and delivering
// what is due for at most grace, then the messages still in flight are
// cut off and their claims given back, and Run returns. A second Stop
// does nothing.
func (n *Notifier) Stop(grace time.Duration) {
	n.once.Do(func() { n.quit <- grace })
}

// DrainOnce claims one batch of due messages and delivers them, Workers
// at a time, and returns how many it handled (delivered, retried or
// failed). Every claim of the batch is renewed until its message is done.
func (n *Notifier) DrainOnce(ctx context.Context) (int, error) {
	if n.cfg.Store == nil {
		return 0, errors.New("drain outbox: no store")
	}
	ms, err := n.cfg.Store.ClaimOutbox(ctx, n.cfg.Clock(), n.cfg.Batch, n.cfg.Lease)
	if err != nil {
		return 0, fmt.Errorf("drain outbox: %w", err)
	}
	cs := make([]*claim, len(ms))
	mark := n.share.Mark() // every message of ms is committed
	for i, m := range ms {
		cs[i] = n.hold(ctx, m)
		cs[i].mark = mark
	}
	work := make(chan *claim)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var errs []error
	for range min(n.cfg.Workers, len(ms)) {
		wg.Go(func() {
			for c := range work {
				if err := n.handle(ctx, c); err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
				}
			}
		})
	}
	for _, c := range cs {
		work <- c
	}
	close(work)
	wg.Wait()
	return len(ms), errors.Join(errs...)
}

// claim is one claimed message and its lease, renewed in the background
// while the message is worked on.
type claim struct {
	m      *flows.OutboxMessage
	mark   int64           // the view share's mark taken after the claim returned
	ctx    context.Context // ends when the claim is lost or the deadline passes
	cancel context.CancelFunc
	stop   chan struct{}
	wg     sync.WaitGroup

	mu    sync.Mutex
	until time.Time // the claim's current end
	lost  bool      // another claimer has it now (or it could not be renewed in time)
}

// hold starts keeping the claim of m: renewed every Lease/3 with a
// ClaimExtender; without one, the message must be finished within ¾ of
// the lease, and a later start is refused by handle.
func (n *Notifier) hold(ctx context.Context, m *flows.OutboxMessage) *claim {
	c := &claim{m: m, until: m.NextAt, stop: make(chan struct{})}
	if n.ext == nil {
		c.ctx, c.cancel = context.WithDeadline(ctx, time.Now().Add(n.cfg.Lease*3/4))
		return c
	}
	c.ctx, c.cancel = context.WithCancel(ctx)
	c.wg.Go(func() { n.renew(ctx, c) })
	return c
}

// renew extends c's lease every Lease/3 until stopped; when the claim is
// lost, or cannot be renewed before it runs out, c.ctx is cancelled so
// that the send stops and nothing is recorded.
func (n *Notifier) renew(ctx context.Context, c *claim) {
	t := time.NewTicker(max(n.cfg.Lease/3, time.Millisecond))
	defer t.Stop()
	for {
		select {
		case <-c.stop:
			return
		case <-ctx.Done():
			return
		case <-t.C:
		}
		c.mu.Lock()
		from := c.until
		c.mu.Unlock()
		to := n.cfg.Clock().Add(n.cfg.Lease)
		rctx, cancel := context.WithTimeout(ctx, n.cfg.Lease/3)
		ok, err := n.ext.ExtendClaim(rctx, c.m.ID, from, to)
		cancel()
		c.mu.Lock()
		switch {
		case err == nil && ok:
			c.until = ms(to)
		case err == nil:
			c.lost = true
		case !n.cfg.Clock().Before(c.until.Add(-n.cfg.Lease / 8)):
			c.lost = true // could not renew in time: someone may take it
		}
		lost := c.lost
		c.mu.Unlock()
		if err != nil && ctx.Err() == nil {
			n.log.WarnContext(ctx, "renew outbox claim", "msg", c.m.ID, "err", err)
		}
		if lost {
			n.log.InfoContext(ctx, "outbox claim lost, the send is cut off", "msg", c.m.ID)
			c.cancel()
			return
		}
	}
}

// end stops renewing c and reports whether it was lost.
func (c *claim) end() bool {
	close(c.stop)
	c.wg.Wait()
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lost
}

// release gives back the claim of a message not finished (shutting down),
// so that it is due again at once for another replica or the next start.
func (n *Notifier) release(ctx context.Context, c *claim) {
	if n.ext == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
	defer cancel()
	if _, err := n.ext.ExtendClaim(ctx, c.m.ID, c.until, n.cfg.Clock()); err != nil {
		n.log.WarnContext(ctx, "give back outbox claim", "msg", c.m.ID, "err", err)
	}
}

// ms truncates t to the millisecond, as the stores keep it.
func ms(t time.Time) time.Time { return time.UnixMilli(t.UnixMilli()).UTC() }

// permanent marks a delivery error that no retry can fix.
type permanent struct{ err error }

func (p permanent) Error() string { return p.err.Error() }
func (p permanent) Unwrap() error { return p.err }

// handle delivers one claimed message and records the outcome. The error
// returned is the store's only: delivery failures are recorded on the
// message.
func (n *Notifier) handle(ctx context.Context, c *claim) error {
	m := c.m
	defer c.cancel()
	if err := c.ctx.Err(); err != nil {
		// Without renewal: its time ran out while it waited in the batch.
		// With: the claim was lost. Either way it is left for the next claim
		// rather than sent late.
		lost := c.end()
		if ctx.Err() != nil {
			n.release(ctx, c)
			return nil
		}
		n.log.InfoContext(ctx, "claim over before the send started, left for the next claim", "msg", m.ID, "lost", lost)
		return nil
	}
	dctx := c.ctx
	if n.ext != nil {
		var cancel context.CancelFunc
		dctx, cancel = context.WithTimeout(c.ctx, n.cfg.SendTimeout)
		defer cancel()
	}
	var refs *[]*flows.MessageRef // with a DeliveryRecorder: the sent cards' refs, written with the delivery
	if n.rec != nil {
		refs = new([]*flows.MessageRef)
	}
	err := n.deliver(bots.WithViewShare(dctx, n.share, c.mark), m, refs)
	lost := c.end()
	// The message's logger, made only when something is logged: With
	// copies its attributes, on every delivery otherwise.
	log := func() *slog.Logger {
		return n.log.With("msg", m.ID, "kind", m.Kind, "recipient", m.Recipient, "attempt", m.Attempts+1)
	}
	mctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err == nil {
		// Sent: recorded even when shutting down, so that it is not sent
		// again by the next claimer.
		if refs != nil {
			if err := n.rec.MarkDeliveredWithRefs(mctx, m.ID, n.cfg.Clock(), *refs); err != nil {
				return fmt.Errorf("mark message %d delivered: %w", m.ID, err)
			}
		} else if err := n.cfg.Store.MarkDelivered(mctx, m.ID, n.cfg.Clock()); err != nil {
			return fmt.Errorf("mark message %d delivered: %w", m.ID, err)
		}
		if n.log.Enabled(ctx, slog.LevelDebug) {
			log().DebugContext(ctx, "delivered")
		}
		return nil
	}
	if refs != nil {
		// Some copies went out before another failed: their refs are kept
		// now, so that updates reach them whatever becomes of the retry.
		for _, r := range *refs {
			if err := n.cfg.Store.SaveMessageRef(mctx, r); err != nil {
				log().WarnContext(ctx, "save message ref of a sent copy", "platform", r.Platform, "err", err)
			}
		}
	}
	if ctx.Err() != nil {
		n.release(ctx, c) // shutting down: due again at once for whoever is next
		return nil
	}
	if lost {
		log().InfoContext(ctx, "send cut off: the claim was lost, the new claimer sends it", "err", err)
		return nil
	}
	var p permanent
	if errors.As(err, &p) || m.Attempts+1 >= n.MaxAttempts() {
		log().WarnContext(ctx, "message failed", "err", err)
		if err := n.cfg.Store.MarkFailed(ctx, m.ID, err.Error()); err != nil {
			return fmt.Errorf("mark message %d failed: %w", m.ID, err)
		}
		return nil
	}
	wait := n.cfg.Backoff[min(m.Attempts, len(n.cfg.Backoff)-1)]
	log().InfoContext(ctx, "message will be retried", "err", err, "in", wait)
	if err := n.cfg.Store.MarkRetry(ctx, m.ID, n.cfg.Clock().Add(wait), err.Error()); err != nil {
		return fmt.Errorf("mark message %d for retry: %w", m.ID, err)
	}
	return nil
}

// deliver performs one attempt. The refs of the cards sent are appended to
// refs, or saved at once when refs is nil.
func (n *Notifier) deliver(ctx context.Context, m *flows.OutboxMessage, refs *[]*flows.MessageRef) error {
	switch m.Kind {
	case flows.MsgHTTP:
		if n.cfg.HTTP == nil {
			return permanent{errors.New("no http runner configured")}
		}
		if err := n.cfg.HTTP.RunHTTP(ctx, m); err != nil {
			return fmt.Errorf("run http step %s: %w", m.StepID, err)
		}
		n.delivered("http")
		return nil
	case flows.MsgCardUpdate:
		return n.updateCards(ctx, m)
	case flows.MsgReply:
		return n.deliverReply(ctx, m, refs)
	}
	if m.Recipient == "" {
		return permanent{fmt.Errorf("%s message has no recipient", m.Kind)}
	}
	if n.cfg.Renderer == nil {
		return permanent{errors.New("no renderer configured")}
	}
	u, err := n.cfg.Store.User(ctx, m.Recipient)
	if errors.Is(err, flows.ErrNotFound) {
		return permanent{fmt.Errorf("recipient %s is not in the directory", m.Recipient)}
	}
	if err != nil {
		return fmt.Errorf("look up recipient %s: %w", m.Recipient, err)
	}
	if to, refPlatform, ok := bots.ReplyTarget(m.Data); ok {
		// Filed in a chat: the answer goes into that chat.
		msg, err := n.cfg.Renderer.Render(ctx, m, u)
		if err != nil {
			return fmt.Errorf("render for %s: %w", u.ID, err)
		}
		return n.sendTo(ctx, m, to, refPlatform, msg, refs)
	}
	var keys []string
	if n.cfg.OnePlatform {
		if keys, err = n.route(ctx, u); err != nil {
			return err
		}
	} else {
		for _, k := range n.cfg.PreferredPlatform(u) {
			p, _, _ := strings.Cut(k, ":")
			if n.cfg.Messengers[p] != nil && u.Platforms[k] != "" && !slices.Contains(keys, k) {
				keys = append(keys, k)
			}
		}
	}
	if len(keys) == 0 {
		return permanent{fmt.Errorf("recipient %s cannot be reached: no id on any configured platform (%s)", u.ID, strings.Join(n.platformNames(), ", "))}
	}
	msg, err := n.cfg.Renderer.Render(ctx, m, u)
	if err != nil {
		return fmt.Errorf("render for %s: %w", u.ID, err)
	}
	var errs []error
	for _, key := range keys {
		if err := n.send(ctx, m, u, key, msg, refs); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// send delivers msg to u on the platform of key and records the card's
// reference.
func (n *Notifier) send(ctx context.Context, m *flows.OutboxMessage, u *flows.User, key string, msg bots.Message, refs *[]*flows.MessageRef) error {
	platform, app, _ := strings.Cut(key, ":")
	ms := n.cfg.Messengers[platform]
	to := bots.Recipient{Platform: platform, App: app, UserID: u.Platforms[key]}
	ref, err := ms.Send(ctx, to, msg, "outbox-"+strconv.FormatInt(m.ID, 10)+"-"+key)
	if err != nil {
		n.failed(platform)
		return fmt.Errorf("send to %s on %s: %w", u.ID, key, err)
	}
	n.delivered(platform)
	if msg.Card == nil || ref == "" || !keepsRef(m) {
		return nil
	}
	r := n.cardRef(m, u.ID, key, ref)
	if refs != nil {
		*refs = append(*refs, r)
		return nil
	}
	if err := n.cfg.Store.SaveMessageRef(ctx, r); err != nil {
		return fmt.Errorf("save message ref of %s on %s: %w", u.ID, key, err)
	}
	return nil
}

// deliverReply sends the bot's answer to an event into the chat the event
// came from.
func (n *Notifier) deliverReply(ctx context.Context, m *flows.OutboxMessage, refs *[]*flows.MessageRef) error {
	to, refPlatform, msg, err := bots.DecodeReply(m.Data)
	if err != nil {
		return permanent{fmt.Errorf("reply %d: %w", m.ID, err)}
	}
	return n.sendTo(ctx, m, to, refPlatform, msg, refs)
}

// sendTo sends msg to a chat with the message's outbox key, and files the
// card's ref under refPlatform when the card shows a request.
func (n *Notifier) sendTo(ctx context.Context, m *flows.OutboxMessage, to bots.Recipient, refPlatform string, msg bots.Message, refs *[]*flows.MessageRef) error {
	ms := n.cfg.Messengers[to.Platform]
	if ms == nil {
		return permanent{fmt.Errorf("reply %d: platform %q is not configured", m.ID, to.Platform)}
	}
	ref, err := ms.Send(ctx, to, msg, bots.OutboxKey(m.ID))
	if err != nil {
		n.failed(to.Platform)
		return fmt.Errorf("send reply %d on %s: %w", m.ID, to.Platform, err)
	}
	n.delivered(to.Platform)
	if msg.Card == nil || ref == "" || m.InstanceID == 0 || m.Recipient == "" || refPlatform == "" {
		return nil
	}
	r := n.cardRef(m, m.Recipient, refPlatform, ref)
	if refs != nil {
		*refs = append(*refs, r)
		return nil
	}
	if err := n.cfg.Store.SaveMessageRef(ctx, r); err != nil {
		return fmt.Errorf("save message ref of reply %d: %w", m.ID, err)
	}
	return nil
}

// cardRef is the record of the card m was sent as to recipient: a
// notice's copy keeps its kind and data, so that later updates show it
// under its own headline.
func (n *Notifier) cardRef(m *flows.OutboxMessage, recipient, platform, ref string) *flows.MessageRef {
	r := &flows.MessageRef{InstanceID: m.InstanceID, TaskID: refTask(m), Recipient: recipient, Platform: platform, Ref: ref, CreatedAt: n.cfg.Clock()}
	if slices.Contains(noticeKinds, m.Kind) {
		r.Kind, r.Data = m.Kind, m.Data
	}
	return r
}

// noticeKinds are the request cards under a headline saying what happened
// (who approved, rejected or sent it back, and why).
var noticeKinds = []flows.MsgKind{flows.MsgSubmitted, flows.MsgApproved, flows.MsgRejected, flows.MsgReturned, flows.MsgSentBack, flows.MsgFailed, flows.MsgCC}

// keepsRef reports whether the card of m must be kept current: every card
// about a request is (task cards and request cards alike), except a
// comment's card, which shows the comment and its Reply.
func keepsRef(m *flows.OutboxMessage) bool {
	return m.InstanceID != 0 && m.Kind != flows.MsgText && m.Kind != flows.MsgComment
}

// taskCardKinds render the task card; their refs are filed under the task.
var taskCardKinds = []flows.MsgKind{flows.MsgTask, flows.MsgReminder, flows.MsgEscalation, flows.MsgUrge, flows.MsgWithdrawn}

// refTask is the task a card's ref is filed under: the task for task
// cards, 0 for request cards; a reply's card names its own (TaskID is set
// from the card's About, 0 for a request card).
func refTask(m *flows.OutboxMessage) int64 {
	if m.Kind == flows.MsgReply || slices.Contains(taskCardKinds, m.Kind) {
		return m.TaskID
	}
	return 0
}

// updateCards re-renders and updates every sent copy of the task card of
// m.TaskID, for each copy's own recipient, and every request card of the
// instance.
func (n *Notifier) updateCards(ctx context.Context, m *flows.OutboxMessage) error {
	if m.InstanceID == 0 || m.TaskID == 0 {
		return permanent{fmt.Errorf("card update without request or task (request %d, task %d)", m.InstanceID, m.TaskID)}
	}
	refs, err := n.cfg.Store.MessageRefs(ctx, m.InstanceID, 0)
	if err != nil {
		return fmt.Errorf("load message refs of request %d: %w", m.InstanceID, err)
	}
	if n.cfg.Renderer == nil {
		return permanent{errors.New("no renderer configured")}
	}
	only := copyOf(m)
	// Every copy shows the request as one read gives it (a renderer of
	// bots reads it once for all of them).
	ctx = bots.WithViewMemo(ctx)
	users := map[string]*flows.User{}
	rendered := map[string]bots.Message{}
	var errs []error
	var failed []*flows.MessageRef
	updated := 0
	// Only the newest copy of a task card for a person (on a platform)
	// keeps its buttons: the older ones show the same state, read-only.
	// The same holds for the request cards of a person (the applicant's
	// confirmation, /status answers, notices): the newest keeps Urge and
	// Withdraw.
	// refs come oldest first (the order they were stored): of copies of
	// the same instant the last stored is the newest (a platform's
	// message id says nothing of order).
	newest := map[string]*flows.MessageRef{}
	for _, r := range refs {
		k := r.Recipient + "\x00" + r.Platform + "\x00" + strconv.FormatInt(r.TaskID, 10)
		if x := newest[k]; x == nil || !r.CreatedAt.Before(x.CreatedAt) {
			newest[k] = r
		}
	}
	for _, r := range refs {
		if r.TaskID != 0 && r.TaskID != m.TaskID {
			continue // another task's card
		}
		if only != "" && r.Ref != only {
			continue // a retry of one copy
		}
		msg, err := n.renderCopy(ctx, m, r, users, rendered)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if k := r.Recipient + "\x00" + r.Platform + "\x00" + strconv.FormatInt(r.TaskID, 10); newest[k] != r && msg.Card != nil && len(msg.Card.Buttons) > 0 {
			msg = olderCopy(msg, users[r.Recipient])
		}
		platform, _, _ := strings.Cut(r.Platform, ":")
		ms := n.cfg.Messengers[platform]
		if ms == nil {
			n.log.WarnContext(ctx, "card copy on a platform no longer configured", "platform", r.Platform, "ref", r.Ref)
			continue
		}
		if err := ms.Update(ctx, r.Ref, msg); err != nil {
			if errors.Is(err, bots.ErrMessageGone) {
				n.log.InfoContext(ctx, "card copy gone, not updated", "platform", r.Platform, "ref", r.Ref, "err", err)
				continue
			}
			n.failed(platform)
			errs = append(errs, fmt.Errorf("update card of %s on %s: %w", r.Recipient, r.Platform, err))
			failed = append(failed, r)
			continue
		}
		updated++
		n.delivered(platform)
	}
	if len(errs) == 0 || updated == 0 || len(failed) != len(errs) {
		return errors.Join(errs...)
	}
	// Some copies are current and some failed: each failed copy is retried
	// on its own, so the current ones are not updated again on every retry.
	return n.retryCopies(ctx, m, failed, errors.Join(errs...))
}

// copyOf is the one copy a card update retries (Data["ref"]), or "".
func copyOf(m *flows.OutboxMessage) string {
	var d struct {
		Ref string `json:"ref"`
	}
	if len(m.Data) == 0 || json.Unmarshal(m.Data, &d) != nil {
		return ""
	}
	return d.Ref
}

// retryCopies enqueues one card update per failed copy, due after the
// first backoff; m itself is then done.
func (n *Notifier) retryCopies(ctx context.Context, m *flows.OutboxMessage, failed []*flows.MessageRef, cause error) error {
	now := n.cfg.Clock()
	err := n.cfg.Store.Update(ctx, func(tx flows.Tx) error {
		for _, r := range failed {
			data, err := json.Marshal(map[string]string{"ref": r.Ref})
			if err != nil {
				return err
			}
			c := &flows.OutboxMessage{Kind: flows.MsgCardUpdate, InstanceID: m.InstanceID, TaskID: m.TaskID, StepID: m.StepID,
				Data: data, Status: flows.OutboxPending, NextAt: now.Add(n.cfg.Backoff[0]), CreatedAt: now}
			if err := tx.Enqueue(c); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("retry %d card copies one by one (%w): %w", len(failed), cause, err)
	}
	n.log.InfoContext(ctx, "card copies will be retried one by one", "msg", m.ID, "copies", len(failed), "err", cause)
	return nil
}

// olderCopy is msg without its buttons and inputs, saying that a newer
// copy of the card is the one to act on.
func olderCopy(msg bots.Message, u *flows.User) bots.Message {
	c := *msg.Card
	c.Buttons, c.Inputs = nil, nil
	loc := bots.DefaultLocale
	if u != nil && u.Locale != "" {
		loc = u.Locale
	}
	c.Note = bots.T(loc, "older_copy", nil)
	msg.Card = &c
	return msg
}

// renderCopy renders the current card for one sent copy, caching by
// recipient and kind of card. A notice's copy shows the request as it is
// now under the notice's own headline.
func (n *Notifier) renderCopy(ctx context.Context, m *flows.OutboxMessage, r *flows.MessageRef, users map[string]*flows.User, rendered map[string]bots.Message) (bots.Message, error) {
	notice := r.TaskID == 0 && slices.Contains(noticeKinds, r.Kind)
	key := r.Recipient + "\x00" + strconv.FormatInt(r.TaskID, 10)
	if notice {
		key += "\x00" + string(r.Kind) + "\x00" + string(r.Data)
	}
	if msg, ok := rendered[key]; ok {
		return msg, nil
	}
	u := users[r.Recipient]
	if u == nil {
		var err error
		if u, err = n.cfg.Store.User(ctx, r.Recipient); err != nil {
			if errors.Is(err, flows.ErrNotFound) {
				// Left the directory: render as a stranger would see it.
				u = &flows.User{ID: r.Recipient}
			} else {
				return bots.Message{}, fmt.Errorf("look up recipient %s: %w", r.Recipient, err)
			}
		}
		users[r.Recipient] = u
	}
	var msg bots.Message
	var err error
	if notice {
		req := *m
		req.TaskID, req.Kind, req.Data = 0, r.Kind, r.Data
		if msg, err = n.cfg.Renderer.Render(ctx, &req, u); err != nil || msg.Card == nil {
			// A notice that can no longer be shown as one (its data
			// unreadable) is updated as the plain request card.
			n.log.WarnContext(ctx, "notice copy shown as the plain request card", "kind", r.Kind, "ref", r.Ref, "err", err)
			notice = false
		}
	}
	switch {
	case notice:
	case r.TaskID != 0:
		msg, err = n.cfg.Renderer.Render(ctx, m, u)
	default:
		// The request card: a card update without task first (a renderer
		// that knows it shows the bare card), else the submitted card.
		req := *m
		req.TaskID = 0
		if msg, err = n.cfg.Renderer.Render(ctx, &req, u); err != nil || msg.Card == nil {
			req.Kind = flows.MsgSubmitted
			msg, err = n.cfg.Renderer.Render(ctx, &req, u)
		}
	}
	if err != nil {
		return bots.Message{}, fmt.Errorf("render card for %s: %w", r.Recipient, err)
	}
	if msg.Card == nil {
		return bots.Message{}, permanent{fmt.Errorf("renderer gave no card for %s", r.Recipient)}
	}
	rendered[key] = msg
	return msg, nil
}

// defaultPlatforms returns u's platform keys that have a Messenger, in
// PlatformOrder (then other platforms by name), apps of one platform by key.
func (n *Notifier) defaultPlatforms(u *flows.User) []string {
	var keys []string
	for k, id := range u.Platforms {
		p, _, _ := strings.Cut(k, ":")
		if id != "" && n.cfg.Messengers[p] != nil {
			keys = append(keys, k)
		}
	}
	order := PlatformOrder()
	rank := func(k string) int {
		p, _, _ := strings.Cut(k, ":")
		if i := slices.Index(order, p); i >= 0 {
			return i
		}
		return len(order)
	}
	slices.SortFunc(keys, func(a, b string) int { return cmp.Or(cmp.Compare(rank(a), rank(b)), cmp.Compare(a, b)) })
	return keys
}

func (n *Notifier) platformNames() []string {
	var ps []string
	for p := range n.cfg.Messengers {
		ps = append(ps, p)
	}
	slices.Sort(ps)
	return ps
}

func (n *Notifier) delivered(platform string) {
	if n.cfg.Metrics != nil {
		n.cfg.Metrics.Delivered(platform)
	}
}

func (n *Notifier) failed(platform string) {
	if n.cfg.Metrics != nil {
		n.cfg.Metrics.Failed(platform)
	}
}

// route picks the one platform key of u a message goes to (OnePlatform):
// the preferred platform when u is reachable there, else the first of
// Order; nil when u is reachable nowhere.
func (n *Notifier) route(ctx context.Context, u *flows.User) ([]string, error) {
	order := n.cfg.Order
	if len(order) == 0 {
		order = PlatformOrder()
	}
	var reachable []string
	for k, id := range u.Platforms {
		p, _, _ := strings.Cut(k, ":")
		if id != "" && n.cfg.Messengers[p] != nil {
			reachable = append(reachable, k)
		}
	}
	rank := func(k string) int {
		p, _, _ := strings.Cut(k, ":")
		if i := slices.Index(order, p); i >= 0 {
			return i
		}
		return len(order)
	}
	slices.SortFunc(reachable, func(a, b string) int { return cmp.Or(cmp.Compare(rank(a), rank(b)), cmp.Compare(a, b)) })
	if len(reachable) == 0 {
		return nil, nil
	}
	if n.cfg.Prefs != nil {
		pref, err := n.cfg.Prefs.Preference(ctx, u.ID)
		if err != nil {
			return nil, fmt.Errorf("preferred platform of %s: %w", u.ID, err)
		}
		for _, k := range reachable {
			if p, _, _ := strings.Cut(k, ":"); pref != "" && (p == pref || k == pref) {
				return []string{k}, nil
			}
		}
	}
	return reachable[:1], nil
}
