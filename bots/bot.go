package bots

import (
	"bytes"
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

	"github.com/flowbot/flowbot/flows"
	"github.com/flowbot/flowbot/flows/flowstats"
)

// Config configures a Bot.
type Config struct {
	Engine *flows.Engine
	// Store is the directory and query side (default: Engine.Store()).
	Store flows.Store
	// State keeps conversations; nil = conversations are unavailable.
	State StateStore
	// Dedupe remembers event ids; nil = no dedupe.
	Dedupe Deduper
	// Inbox keeps events acknowledged before they were handled (Keep,
	// ReplayInbox); nil = they are not kept.
	Inbox  Inbox
	Logger *slog.Logger
	// ConversationTTL is how long a conversation waits for an answer (default 30m).
	ConversationTTL time.Duration
	// DedupeTTL is how long an event id is remembered (default 24h).
	DedupeTTL time.Duration
	// ProcessingTTL is how long an event id is held while its event is
	// handled, with a DedupeConfirmer (default ProcessingTTL): longer than
	// any handler's deadline.
	ProcessingTTL time.Duration
	// HandlerTimeout bounds a handler whose hold is renewed, with a
	// DedupeRenewer (default HandlerTimeout).
	HandlerTimeout time.Duration
	// AdminContact is who unknown users should ask, e.g.
	// "IT 服务台 / IT helpdesk (it@example.com)".
	AdminContact string
	// DirectoryTTL is how long user and department names used on cards are
	// cached (default 1m). Rights and identities never use the cache.
	DirectoryTTL time.Duration
	// Files keeps attachments and links to them; nil = file fields
	// cannot be filled and files sent in the chat are declined.
	Files Files
	// Stats, when set, folds the event log for forecasts: the expected
	// finish of an open request on /status and on the applicant's
	// "submitted" card, and a warning on an approver's new task card when
	// its step is predicted to miss its deadline. nil: no forecasts.
	Stats *flowstats.Aggregate
	// Prefs keeps the platform each user prefers to be reached on
	// (/prefer); nil = /prefer is unavailable.
	Prefs Preferences
}

// Preferences keeps each user's preferred platform ("" = none chosen).
type Preferences interface {
	Preference(ctx context.Context, user string) (string, error)
	SetPreference(ctx context.Context, user, platform string) error
}

// DedupeConfirmer is an optional interface of a Deduper: Confirm keeps a
// key seen for ttl from now and marks it done (its event was handled);
// Done reports whether it was.
type DedupeConfirmer interface {
	Confirm(ctx context.Context, key string, ttl time.Duration) error
	Done(ctx context.Context, key string) (bool, error)
}

// DedupeRenewer is an optional interface of a DedupeConfirmer: Renew
// keeps the processing hold of key for ttl from now while its event is
// still being handled, and reports false when key is no longer held
// (expired or forgotten: another replica may be handling a redelivery)
// or already done. It never shortens a hold. With it, holds are short
// and renewed every ProcessingTTL/3, so that a redelivery of an event
// whose replica died is handled within seconds, while a slow handler
// keeps its event.
type DedupeRenewer interface {
	Renew(ctx context.Context, key string, ttl time.Duration) (bool, error)
}

// HandlerTimeout is the default bound of a handler whose hold is renewed
// (DedupeRenewer).
const HandlerTimeout = 30 * time.Second

// ErrInFlight says an event is being handled elsewhere right now (or its
// handler died less than ProcessingTTL ago): the platform should deliver
// it again later.
var ErrInFlight = errors.New("event is being handled, deliver it again later")

// DedupeRefKeeper is an optional interface of a DedupeConfirmer:
// ConfirmWithRefs is Confirm that also saves refs, the message refs of
// the cards the event was a click on, in the same write. A handled click
// then ends with one write instead of one per ref and one for Confirm.
type DedupeRefKeeper interface {
	ConfirmWithRefs(ctx context.Context, key string, ttl time.Duration, refs []*flows.MessageRef) error
}

// DedupeForgetter is an optional interface of a Deduper: Forget removes a
// key so that a redelivery of an event whose handling failed (internal
// error) is handled again.
type DedupeForgetter interface {
	Forget(ctx context.Context, key string) error
}

// MaxTextBytes bounds the texts the bot renders (a longer one is cut).
const MaxTextBytes = 4096

// MaxTextChars is the longest message the bot accepts, in characters
// (a Chinese character counts one, like a Latin letter): what a
// composer states before sending.
const MaxTextChars = 2000

// Bot is the chat layer: one Handle per inbound event.
type Bot struct {
	cfg   Config
	eng   *flows.Engine
	store flows.Store
	log   *slog.Logger

	dirMu sync.Mutex
	dir   atomic.Pointer[directory]
	zones sync.Map // tz name -> *time.Location

	seenMu sync.Mutex
	seen   map[string]time.Time // conversation records written, and when (rememberConv)
}

// New returns a bot over cfg.Engine.
func New(cfg Config) *Bot {
	cfg.ConversationTTL = cmp.Or(cfg.ConversationTTL, 30*time.Minute)
	cfg.DedupeTTL = cmp.Or(cfg.DedupeTTL, 24*time.Hour)
	cfg.ProcessingTTL = cmp.Or(cfg.ProcessingTTL, ProcessingTTL)
	cfg.HandlerTimeout = cmp.Or(cfg.HandlerTimeout, HandlerTimeout)
	cfg.DirectoryTTL = cmp.Or(cfg.DirectoryTTL, time.Minute)
	b := &Bot{cfg: cfg, eng: cfg.Engine, store: cfg.Store, log: cmp.Or(cfg.Logger, slog.Default()).WithGroup("bots")}
	if b.store == nil && b.eng != nil {
		b.store = b.eng.Store()
	}
	return b
}

// Handle answers one inbound event. The returned error is nil when the
// user got a meaningful answer (including refusals and user mistakes) and
// non-nil only for internal failures (database down...): the adapter
// should then answer with a non-2xx so that the platform retries. The
// Reply is always worth showing, even with an error.
func (b *Bot) Handle(ctx context.Context, ev Event) (Reply, error) {
	key := ""
	confirm, twoPhase := b.cfg.Dedupe.(DedupeConfirmer)
	if ev.ID != "" && b.cfg.Dedupe != nil {
		key = ev.Platform + ":" + ev.ID
		// Two phases where the Deduper can: the id is held only briefly
		// while the event is handled, and for DedupeTTL once it was. A
		// process killed mid-way thus does not swallow the platform's
		// later redelivery.
		ttl := b.cfg.DedupeTTL
		if twoPhase {
			ttl = b.cfg.ProcessingTTL
		}
		first, err := b.cfg.Dedupe.FirstSeen(ctx, key, ttl)
		switch {
		case err != nil:
			// Fail open: the engine's optimistic locking keeps decisions
			// single, submission keys keep filings single, and the chat's
			// conversation records the events that changed it (a
			// redelivered one is answered as a duplicate); a lost message
			// is worse than a rare double answer.
			b.log.WarnContext(ctx, "dedupe unavailable, handling event anyway", "key", key, "err", err)
			key = ""
		case !first && twoPhase:
			done, derr := confirm.Done(ctx, key)
			if derr != nil {
				// Not known to be handled (the store is restarting): asked
				// for again rather than dropped, which would lose it if
				// the holder failed.
				b.log.WarnContext(ctx, "event held, its outcome unknown, asking for redelivery", "key", key, "err", derr)
				return Reply{Outcome: OutcomeDuplicate}, ErrInFlight
			}
			if !done {
				// Held by a handler that has not finished: if it dies, this
				// redelivery must not be the one that is dropped.
				b.log.InfoContext(ctx, "event in flight elsewhere, asking for redelivery", "key", key)
				return Reply{Outcome: OutcomeDuplicate}, ErrInFlight
			}
			b.log.DebugContext(ctx, "duplicate event dropped", "key", key)
			return Reply{Outcome: OutcomeDuplicate}, nil
		case !first:
			b.log.DebugContext(ctx, "duplicate event dropped", "key", key)
			return Reply{Outcome: OutcomeDuplicate}, nil
		}
	}
	hctx := ctx
	stopRenew := func() {}
	if twoPhase && key != "" {
		// The handler may not outlive its hold: past the hold a
		// redelivery is handled by someone else, so this one is cut off
		// (its transaction rolls back and the platform delivers again).
		// A renewable hold is kept while the handler runs, up to
		// HandlerTimeout; a fixed one bounds it at two thirds.
		var cancel context.CancelFunc
		if r, ok := b.cfg.Dedupe.(DedupeRenewer); ok {
			hctx, cancel = context.WithTimeout(ctx, b.cfg.HandlerTimeout)
			stopRenew = b.keepHold(hctx, cancel, r, key)
		} else {
			hctx, cancel = context.WithTimeout(ctx, b.cfg.ProcessingTTL*2/3)
		}
		defer cancel()
	}
	refKeeper, keepsRefs := b.cfg.Dedupe.(DedupeRefKeeper)
	var kept *keptRefs
	if twoPhase && keepsRefs && key != "" {
		// The refs of clicked cards are saved with the confirmation.
		kept = &keptRefs{}
		hctx = context.WithValue(hctx, keptRefsKey{}, kept)
	}
	rep, err := b.handle(hctx, ev)
	stopRenew()
	if key == "" {
		return rep, err
	}
	// The event's own context may have expired (that can be why it
	// failed): record the outcome of the dedupe key regardless.
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
	defer cancel()
	refs := kept.take()
	switch {
	case err != nil:
		if f, ok := b.cfg.Dedupe.(DedupeForgetter); ok {
			if ferr := f.Forget(dctx, key); ferr != nil {
				b.log.WarnContext(ctx, "forget failed event id", "key", key, "err", ferr)
			}
		}
		b.saveRefs(dctx, refs)
	case len(refs) > 0:
		if cerr := refKeeper.ConfirmWithRefs(dctx, key, b.cfg.DedupeTTL, refs); cerr != nil {
			b.log.WarnContext(ctx, "confirm handled event id and save the refs of its card", "key", key, "err", cerr)
			b.saveRefs(dctx, refs)
		}
	case twoPhase:
		if cerr := confirm.Confirm(dctx, key, b.cfg.DedupeTTL); cerr != nil {
			b.log.WarnContext(ctx, "confirm handled event id", "key", key, "err", cerr)
		}
	}
	return rep, err
}

// keepHold renews the hold of key every ProcessingTTL/3 until the
// returned stop is called. When the hold is lost, or cannot be renewed
// before it runs out, the handler is cut off (cancel): a redelivery may
// be handled elsewhere by then.
func (b *Bot) keepHold(ctx context.Context, cancel context.CancelFunc, r DedupeRenewer, key string) (stop func()) {
	ttl := b.cfg.ProcessingTTL
	quit := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(max(ttl/3, time.Millisecond))
		defer t.Stop()
		until := time.Now().Add(ttl)
		for {
			select {
			case <-quit:
				return
			case <-ctx.Done():
				return
			case <-t.C:
			}
			at := time.Now()
			rctx, rcancel := context.WithTimeout(ctx, ttl/3)
			ok, err := r.Renew(rctx, key, ttl)
			rcancel()
			switch {
			case err == nil && ok:
				until = at.Add(ttl)
				continue
			case err != nil && time.Now().Before(until.Add(-ttl/8)):
				b.log.WarnContext(ctx, "renew event hold", "key", key, "err", err)
				continue
			}
			select {
			case <-quit: // finished meanwhile: not lost
				return
			default:
			}
			b.log.WarnContext(ctx, "event hold lost, handler cut off (the platform delivers the event again)", "key", key, "err", err)
			cancel()
			return
		}
	})
	return func() { close(quit); wg.Wait() }
}

// ProcessingTTL is the default hold of an event id while its event is
// being handled, with a DedupeConfirmer: short, so that a redelivery
// after a crash waits seconds, not a minute. A DedupeRenewer renews it
// while the handler runs (up to HandlerTimeout); without one, Handle
// cuts a handler off at two thirds of it, so no handler outlives its
// hold.
const ProcessingTTL = 6 * time.Second

func (b *Bot) handle(ctx context.Context, ev Event) (Reply, error) {
	ctx = withConvMemo(ctx)
	u, err := b.identify(ctx, ev)
	if err != nil {
		b.log.ErrorContext(ctx, "identify user", "platform", ev.Platform, "user", ev.UserID, "err", err)
		msg := T("zh", "internal_error", nil) + "\n" + T("en", "internal_error", nil)
		return textReply(ev.Action != nil, msg), fmt.Errorf("identify user: %w", err)
	}
	if u == nil {
		admin := cmp.Or(b.cfg.AdminContact, T("zh", "admin_default", nil))
		rep := textReply(ev.Action != nil, T("zh", "unknown_user", map[string]any{"admin": admin}))
		rep.Outcome = OutcomeRefused
		if err := b.enqueueReplies(ctx, &rep, ev, nil); err != nil {
			return rep, err
		}
		return rep, nil
	}
	b.directory(ctx)
	var rep Reply
	if ev.Action != nil {
		rep, err = b.click(ctx, ev, u)
	} else {
		rep, err = b.message(ctx, ev, u)
	}
	if err != nil {
		// The platform delivers the event again: no reply is kept from
		// this attempt (it would be sent once per attempt).
		return rep, err
	}
	if ev.Action != nil && rep.ToastKind == ToastWarning {
		rep.Outcome = OutcomeRefused
	}
	if qerr := b.enqueueReplies(ctx, &rep, ev, u); qerr != nil {
		msg, _ := b.explain(ctx, locale(u), qerr)
		return textReply(ev.Action != nil, msg), qerr
	}
	return rep, nil
}

// replyTo is the chat an event came from, as the notifier addresses the
// bot's reply there.
func replyTo(ev Event) Recipient {
	return Recipient{Platform: ev.Platform, App: ev.App, UserID: ev.UserID, ChatID: ev.ChatID}
}

// replyData is the Data of a flows.MsgReply outbox message.
type replyData struct {
	To Recipient `json:"to"`
	// RefPlatform is the platform key the card's message ref is filed
	// under (User.Platforms key), when the card shows a request.
	RefPlatform string  `json:"ref_platform,omitempty"`
	Msg         Message `json:"msg"`
}

// enqueueReplies makes the reply's messages durable in the outbox (one
// transaction) before the event is acknowledged: the notifier sends them
// with Message.Key as the idempotency key (the reply rule of Reply).
// Messages that already have a Key were written by the operation itself.
func (b *Bot) enqueueReplies(ctx context.Context, rep *Reply, ev Event, u *flows.User) error {
	rep.Sent = nil // the notifier keeps the refs of the cards it sends
	var todo []int
	for i, m := range rep.Messages {
		if m.Key == "" && (m.Text != "" || m.Card != nil) {
			todo = append(todo, i)
		}
	}
	if len(todo) == 0 {
		return nil
	}
	if ev.ChatID == "" && ev.UserID == "" {
		return fmt.Errorf("enqueue reply: event %s names no chat", ev.ID)
	}
	now := b.now()
	recipient, refPlatform := "", ""
	if u != nil {
		recipient, refPlatform = u.ID, platformKey(ev, u)
	}
	already := false
	err := b.store.Update(ctx, func(tx flows.Tx) error {
		if ev.ID != "" {
			// One reply per event, even when it is handled twice (the
			// dedupe store failed open, or a hold was lost): numbering the
			// event's key in the transaction of its replies makes them
			// unique with it, as the engine does for submission keys.
			n, err := tx.NextNumber(replyMark(ev))
			if err != nil {
				return fmt.Errorf("mark event replied: %w", err)
			}
			if already = n > 1; already {
				return nil
			}
		}
		for _, i := range todo {
			msg := rep.Messages[i]
			m := &flows.OutboxMessage{Kind: flows.MsgReply, Recipient: recipient, Status: flows.OutboxPending, NextAt: now, CreatedAt: now}
			d := replyData{To: replyTo(ev), Msg: msg}
			if a := msg.Card; a != nil && a.About != nil && a.About.InstanceID > 0 && u != nil {
				m.InstanceID, m.TaskID, d.RefPlatform = a.About.InstanceID, a.About.TaskID, refPlatform
			}
			data, err := json.Marshal(d)
			if err != nil {
				return fmt.Errorf("encode reply: %w", err)
			}
			m.Data = data
			if err := tx.Enqueue(m); err != nil {
				return fmt.Errorf("enqueue reply: %w", err)
			}
			rep.Messages[i].Key = OutboxKey(m.ID)
		}
		return b.settleCopies(tx, rep.Messages, todo, u, now)
	})
	if err != nil {
		for _, i := range todo {
			rep.Messages[i].Key = ""
		}
		return fmt.Errorf("make reply durable: %w", err)
	}
	if already {
		// The first handling's reply is durable and is what the user
		// gets; this one is dropped (shown by no adapter either).
		b.log.InfoContext(ctx, "event handled again, its reply was written already", "platform", ev.Platform, "event", ev.ID)
		kept := rep.Messages[:0]
		for i, m := range rep.Messages {
			if !slices.Contains(todo, i) {
				kept = append(kept, m)
			}
		}
		rep.Messages = kept
	}
	return nil
}

// copySettle is how long after a new live copy of a card is queued the
// other copies are updated: the notifier has sent the new one by then,
// so it is the newest and keeps the buttons while the older lose theirs.
const copySettle = 5 * time.Second

// settleCopies queues, with the reply's cards that have live buttons, an
// update of the other copies of the same card (only the newest copy for
// a person keeps buttons), once per request and task.
func (b *Bot) settleCopies(tx flows.Tx, msgs []Message, todo []int, u *flows.User, now time.Time) error {
	if u == nil {
		return nil
	}
	done := map[About]bool{}
	for _, i := range todo {
		c := msgs[i].Card
		if c == nil || c.About == nil || c.About.InstanceID <= 0 || len(c.Buttons) == 0 || done[*c.About] {
			continue
		}
		done[*c.About] = true
		task := c.About.TaskID
		if task == 0 {
			// A card update names a task; the request card's copies are
			// updated with any task's, so the newest task's.
			ts, err := tx.TasksOf(c.About.InstanceID)
			if err != nil {
				return fmt.Errorf("list tasks to update older copies: %w", err)
			}
			if len(ts) == 0 {
				continue
			}
			task = ts[len(ts)-1].ID
		}
		m := &flows.OutboxMessage{Kind: flows.MsgCardUpdate, InstanceID: c.About.InstanceID, TaskID: task,
			Status: flows.OutboxPending, NextAt: now.Add(copySettle), CreatedAt: now}
		if err := tx.Enqueue(m); err != nil {
			return fmt.Errorf("enqueue update of older copies: %w", err)
		}
	}
	return nil
}

// replyMark is the sequence key that makes an event's reply unique.
func replyMark(ev Event) string {
	return "replied:" + ev.Platform + ":" + ev.App + ":" + ev.UserID + ":" + ev.ID
}

// OutboxKey is the idempotency key of outbox message id: the notifier
// sends with it, and a fast-path copy shown by an adapter carries it.
func OutboxKey(id int64) string { return "outbox-" + strconv.FormatInt(id, 10) }

// DecodeReply reads the Data of a flows.MsgReply message: where it goes,
// the platform key its card's ref is filed under, and the message.
func DecodeReply(data []byte) (to Recipient, refPlatform string, msg Message, err error) {
	var d replyData
	if err := json.Unmarshal(data, &d); err != nil {
		return Recipient{}, "", Message{}, fmt.Errorf("decode reply: %w", err)
	}
	if d.To.Platform == "" || (d.To.ChatID == "" && d.To.UserID == "") {
		return Recipient{}, "", Message{}, errors.New("decode reply: no platform or chat")
	}
	if d.Msg.Text == "" && d.Msg.Card == nil {
		return Recipient{}, "", Message{}, errors.New("decode reply: empty message")
	}
	return d.To, d.RefPlatform, d.Msg, nil
}

// ReplyTarget reads Data["reply_to"] of an engine message (a request filed
// in chat): the chat it goes to, and ok when it has one.
func ReplyTarget(data []byte) (to Recipient, refPlatform string, ok bool) {
	if len(data) == 0 || !bytes.Contains(data, []byte(`"reply_to"`)) {
		return Recipient{}, "", false
	}
	var d struct {
		ReplyTo *replyData `json:"reply_to"`
	}
	if json.Unmarshal(data, &d) != nil || d.ReplyTo == nil || d.ReplyTo.To.Platform == "" {
		return Recipient{}, "", false
	}
	return d.ReplyTo.To, d.ReplyTo.RefPlatform, true
}

// identify finds the directory user of an event: by app-qualified platform
// id, by platform id, by email; nil when unknown.
func (b *Bot) identify(ctx context.Context, ev Event) (*flows.User, error) {
	try := func(u *flows.User, err error) (*flows.User, error) {
		if errors.Is(err, flows.ErrNotFound) {
			return nil, nil
		}
		return u, err
	}
	if ev.UserID != "" {
		if ev.App != "" {
			if u, err := try(b.store.UserByPlatform(ctx, ev.Platform+":"+ev.App, ev.UserID)); u != nil || err != nil {
				return u, err
			}
		}
		if u, err := try(b.store.UserByPlatform(ctx, ev.Platform, ev.UserID)); u != nil || err != nil {
			return u, err
		}
		if ev.Platform == "web" { // the playground speaks directory ids
			if u, err := try(b.store.User(ctx, ev.UserID)); u != nil || err != nil {
				return u, err
			}
		}
	}
	if ev.UnionID != "" {
		// One id across a tenant's apps (Feishu union_id): directories
		// keyed on it serve every app.
		if u, err := try(b.store.UserByPlatform(ctx, ev.Platform, ev.UnionID)); u != nil || err != nil {
			return u, err
		}
	}
	if ev.Email != "" {
		return try(b.store.UserByEmail(ctx, ev.Email))
	}
	return nil, nil
}

// botError is a user mistake found by the bot itself (not the engine).
type botError struct {
	key  string
	args map[string]any
}

func (e *botError) Error() string { return T("en", e.key, e.args) }

func userErr(key string, args map[string]any) error { return &botError{key: key, args: args} }

// explain turns err into what the user reads. internal is true (and the
// error logged) when it is neither an engine *flows.Error nor a botError.
func (b *Bot) explain(ctx context.Context, loc string, err error) (msg string, internal bool) {
	var fe *flows.Error
	if errors.As(err, &fe) {
		return fe.Message(loc), false
	}
	var be *botError
	if errors.As(err, &be) {
		return T(loc, be.key, be.args), false
	}
	b.log.ErrorContext(ctx, "internal error", "err", err)
	return T(loc, "internal_error", nil), true
}

// fail answers a message with the explanation of err; the error is
// returned only when it is internal.
func (b *Bot) fail(ctx context.Context, loc string, err error) (Reply, error) {
	msg, internal := b.explain(ctx, loc, err)
	if internal {
		return textReply(false, msg), err
	}
	return textReply(false, msg), nil
}

func textReply(toast bool, text string) Reply {
	if toast {
		return Reply{Toast: text}
	}
	return Reply{Messages: []Message{{Text: text}}}
}

func locale(u *flows.User) string {
	if u == nil || u.Locale == "" {
		return DefaultLocale
	}
	return u.Locale
}

// zone returns the user's time zone (default Asia/Shanghai).
func (b *Bot) zone(u *flows.User) *time.Location {
	name := "Asia/Shanghai"
	if u != nil && u.TZ != "" {
		name = u.TZ
	}
	if l, ok := b.zones.Load(name); ok {
		return l.(*time.Location)
	}
	l, err := time.LoadLocation(name)
	if err != nil {
		l = time.FixedZone("CST", 8*3600)
	}
	b.zones.Store(name, l)
	return l
}

func (b *Bot) now() time.Time {
	if b.eng != nil {
		return b.eng.Now()
	}
	return time.Now()
}

// localNow is now in the business calendar's zone: which day today is.
func (b *Bot) localNow() time.Time {
	if b.eng != nil {
		return b.eng.LocalNow()
	}
	return time.Now()
}

// directory is a snapshot of user and department names for cards.
type directory struct {
	users map[string]*flows.User
	depts map[string]*flows.Department
	at    time.Time
}

// directory returns a recent snapshot, reloading it when older than
// DirectoryTTL. A failed reload keeps the old one (names fall back to ids).
func (b *Bot) directory(ctx context.Context) *directory {
	d := b.dir.Load()
	if d != nil && time.Since(d.at) < b.cfg.DirectoryTTL {
		return d
	}
	b.dirMu.Lock()
	defer b.dirMu.Unlock()
	if d = b.dir.Load(); d != nil && time.Since(d.at) < b.cfg.DirectoryTTL {
		return d
	}
	users, err := b.store.Users(ctx)
	if err != nil {
		b.log.WarnContext(ctx, "load directory for cards", "err", err)
		return d
	}
	depts, err := b.store.Departments(ctx)
	if err != nil {
		b.log.WarnContext(ctx, "load departments for cards", "err", err)
		return d
	}
	nd := &directory{users: make(map[string]*flows.User, len(users)), depts: make(map[string]*flows.Department, len(depts)), at: time.Now()}
	for _, u := range users {
		nd.users[u.ID] = u
	}
	for _, dp := range depts {
		nd.depts[dp.ID] = dp
	}
	b.dir.Store(nd)
	return nd
}

// ensureDirectory loads the name snapshot for cards built outside Handle
// and Render (which load it with their context): the card functions take
// no context, so this first load has its own short deadline.
func (b *Bot) ensureDirectory() {
	if b.dir.Load() != nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	b.directory(ctx)
}

// user returns a directory user from the snapshot, or nil.
func (b *Bot) user(id string) *flows.User {
	if d := b.dir.Load(); d != nil {
		return d.users[id]
	}
	return nil
}

// name returns the display name of a user id.
func (b *Bot) name(loc, id string) string {
	if id == flows.System {
		return T(loc, "system", nil)
	}
	if u := b.user(id); u != nil && u.Name != "" {
		return u.Name
	}
	return id
}

func (b *Bot) names(loc string, ids []string) string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = b.name(loc, id)
	}
	if isZH(loc) {
		return strings.Join(out, "、")
	}
	return strings.Join(out, ", ")
}

func (b *Bot) deptName(loc, id string) string {
	if d := b.dir.Load(); d != nil {
		if dp := d.depts[id]; dp != nil {
			if !isZH(loc) && dp.NameEN != "" {
				return dp.NameEN
			}
			if dp.Name != "" {
				return dp.Name
			}
		}
	}
	return id
}
