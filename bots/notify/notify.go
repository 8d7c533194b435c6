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
	// Lease is how long a claimed message is ours (default 1m): after a
	// crash, what the dead process had claimed waits at most this long.
	Lease   time.Duration
	Batch   int           // messages claimed at once (default 50)
	Workers int           // messages delivered in parallel (default 4)
	Poll    time.Duration // Run's wait when the outbox is empty (default 1s)
	Logger  *slog.Logger
	Metrics Metrics
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

// DefaultLease is how long a claimed message is held by its claimer.
const DefaultLease = time.Minute

// Notifier drains the outbox.
type Notifier struct {
	cfg  Config
	log  *slog.Logger
	kick chan struct{}
	quit chan time.Duration
	once sync.Once
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
	cfg.Batch = cmp.Or(cfg.Batch, 50)
	cfg.Workers = cmp.Or(cfg.Workers, 4)
	cfg.Poll = cmp.Or(cfg.Poll, time.Second)
	n := &Notifier{cfg: cfg, log: cmp.Or(cfg.Logger, slog.Default()).WithGroup("notify"), kick: make(chan struct{}, 1), quit: make(chan time.Duration, 1)}
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

// Run drains the outbox until ctx ends: claim a batch, deliver it, and
// wait for Poll or a Kick when the outbox had nothing due. Errors of the
// store are logged and retried after Poll.
func (n *Notifier) Run(ctx context.Context) error {
	for {
		select {
		case grace := <-n.quit:
			return n.flush(ctx, grace)
		default:
		}
		got, err := n.DrainOnce(ctx)
		if err != nil && ctx.Err() == nil {
			n.log.ErrorContext(ctx, "drain outbox", "err", err)
		}
		if got >= n.cfg.Batch && err == nil {
			continue // more may be waiting
		}
		t := time.NewTimer(n.cfg.Poll)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-n.kick:
			t.Stop()
		case <-t.C:
		case grace := <-n.quit:
			t.Stop()
			return n.flush(ctx, grace)
		}
	}
}

// Stop asks Run to finish gracefully: the batch in hand is delivered (not
// cut off mid-send, so none of its claims waits out a lease), then what
// is due is delivered for at most grace, then Run returns. A second Stop
// does nothing.
func (n *Notifier) Stop(grace time.Duration) {
	n.once.Do(func() { n.quit <- grace })
}

// flush delivers what is due until nothing is, or grace ends.
func (n *Notifier) flush(ctx context.Context, grace time.Duration) error {
	if grace <= 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, grace)
	defer cancel()
	for ctx.Err() == nil {
		got, err := n.DrainOnce(ctx)
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			return fmt.Errorf("flush outbox: %w", err)
		}
		if got == 0 {
			return nil
		}
	}
	n.log.WarnContext(ctx, "grace period over with messages still due: another replica or the next start sends them", "grace", grace)
	return nil
}

// DrainOnce claims one batch of due messages and delivers them; it returns
// how many it handled (delivered, retried or failed).
func (n *Notifier) DrainOnce(ctx context.Context) (int, error) {
	if n.cfg.Store == nil {
		return 0, errors.New("drain outbox: no store")
	}
	ms, err := n.cfg.Store.ClaimOutbox(ctx, n.cfg.Clock(), n.cfg.Batch, n.cfg.Lease)
	if err != nil {
		return 0, fmt.Errorf("drain outbox: %w", err)
	}
	// Every message of the batch must be finished well inside the lease
	// taken now, however long the ones before it took: past this, another
	// replica may claim it.
	done := time.Now().Add(n.cfg.Lease * 3 / 4)
	work := make(chan *flows.OutboxMessage)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var errs []error
	for range min(n.cfg.Workers, len(ms)) {
		wg.Go(func() {
			for m := range work {
				if err := n.handle(ctx, m, done); err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
				}
			}
		})
	}
	for _, m := range ms {
		work <- m
	}
	close(work)
	wg.Wait()
	return len(ms), errors.Join(errs...)
}

// permanent marks a delivery error that no retry can fix.
type permanent struct{ err error }

func (p permanent) Error() string { return p.err.Error() }
func (p permanent) Unwrap() error { return p.err }

// handle delivers one claimed message and records the outcome. The error
// returned is the store's only: delivery failures are recorded on the
// message.
func (n *Notifier) handle(ctx context.Context, m *flows.OutboxMessage, done time.Time) error {
	// Finish well inside the lease, so that no other claimer gets the
	// message while this one still works on it; a message whose time is
	// nearly up is left for the next claim rather than sent late.
	if time.Until(done) < n.cfg.Lease/8 {
		n.log.InfoContext(ctx, "lease nearly over, left for the next claim", "msg", m.ID)
		return nil
	}
	dctx, cancel := context.WithDeadline(ctx, done)
	err := n.deliver(dctx, m)
	cancel()
	if ctx.Err() != nil {
		return nil // shutting down: the lease ends and someone retries
	}
	log := n.log.With("msg", m.ID, "kind", m.Kind, "recipient", m.Recipient, "attempt", m.Attempts+1)
	if err == nil {
		if err := n.cfg.Store.MarkDelivered(ctx, m.ID, n.cfg.Clock()); err != nil {
			return fmt.Errorf("mark message %d delivered: %w", m.ID, err)
		}
		log.DebugContext(ctx, "delivered")
		return nil
	}
	var p permanent
	if errors.As(err, &p) || m.Attempts+1 >= n.MaxAttempts() {
		log.WarnContext(ctx, "message failed", "err", err)
		if err := n.cfg.Store.MarkFailed(ctx, m.ID, err.Error()); err != nil {
			return fmt.Errorf("mark message %d failed: %w", m.ID, err)
		}
		return nil
	}
	wait := n.cfg.Backoff[min(m.Attempts, len(n.cfg.Backoff)-1)]
	log.InfoContext(ctx, "message will be retried", "err", err, "in", wait)
	if err := n.cfg.Store.MarkRetry(ctx, m.ID, n.cfg.Clock().Add(wait), err.Error()); err != nil {
		return fmt.Errorf("mark message %d for retry: %w", m.ID, err)
	}
	return nil
}

// deliver performs one attempt.
func (n *Notifier) deliver(ctx context.Context, m *flows.OutboxMessage) error {
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
		return n.deliverReply(ctx, m)
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
		return n.sendTo(ctx, m, to, refPlatform, msg)
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
		if err := n.send(ctx, m, u, key, msg); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// send delivers msg to u on the platform of key and records the card's
// reference.
func (n *Notifier) send(ctx context.Context, m *flows.OutboxMessage, u *flows.User, key string, msg bots.Message) error {
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
	r := &flows.MessageRef{InstanceID: m.InstanceID, TaskID: refTask(m), Recipient: u.ID, Platform: key, Ref: ref, CreatedAt: n.cfg.Clock()}
	if err := n.cfg.Store.SaveMessageRef(ctx, r); err != nil {
		return fmt.Errorf("save message ref of %s on %s: %w", u.ID, key, err)
	}
	return nil
}

// deliverReply sends the bot's answer to an event into the chat the event
// came from.
func (n *Notifier) deliverReply(ctx context.Context, m *flows.OutboxMessage) error {
	to, refPlatform, msg, err := bots.DecodeReply(m.Data)
	if err != nil {
		return permanent{fmt.Errorf("reply %d: %w", m.ID, err)}
	}
	return n.sendTo(ctx, m, to, refPlatform, msg)
}

// sendTo sends msg to a chat with the message's outbox key, and files the
// card's ref under refPlatform when the card shows a request.
func (n *Notifier) sendTo(ctx context.Context, m *flows.OutboxMessage, to bots.Recipient, refPlatform string, msg bots.Message) error {
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
	r := &flows.MessageRef{InstanceID: m.InstanceID, TaskID: refTask(m), Recipient: m.Recipient, Platform: refPlatform, Ref: ref, CreatedAt: n.cfg.Clock()}
	if err := n.cfg.Store.SaveMessageRef(ctx, r); err != nil {
		return fmt.Errorf("save message ref of reply %d: %w", m.ID, err)
	}
	return nil
}

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
	newest := map[string]*flows.MessageRef{}
	for _, r := range refs {
		k := r.Recipient + "\x00" + r.Platform + "\x00" + strconv.FormatInt(r.TaskID, 10)
		if x := newest[k]; x == nil || r.CreatedAt.After(x.CreatedAt) || (r.CreatedAt.Equal(x.CreatedAt) && r.Ref > x.Ref) {
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
// recipient and kind of card.
func (n *Notifier) renderCopy(ctx context.Context, m *flows.OutboxMessage, r *flows.MessageRef, users map[string]*flows.User, rendered map[string]bots.Message) (bots.Message, error) {
	key := r.Recipient + "\x00" + strconv.FormatInt(r.TaskID, 10)
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
	if r.TaskID != 0 {
		msg, err = n.cfg.Renderer.Render(ctx, m, u)
	} else {
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
