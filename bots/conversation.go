package bots

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/flowbot/flowbot/flows"
	"github.com/flowbot/flowbot/flows/flowdef"
)

// convState is a conversation filling a flow's form, kept as JSON in the
// StateStore under convKey.
type convState struct {
	Flow    string         `json:"flow"`
	Values  map[string]any `json:"values"`
	Pending []string       `json:"pending"` // field ids still to ask, current first; empty = confirming
	Total   int            `json:"total"`   // questions asked in all, for "question n of total"
	Token   string         `json:"token"`   // carried by the summary card's buttons
	// Instance, Number and Version are set when the conversation amends a
	// returned request (Submit resubmits it): its id, number and the
	// definition version it is pinned to.
	Instance int64  `json:"instance,omitempty"`
	Number   string `json:"number,omitempty"`
	Version  int    `json:"version,omitempty"`
	// Form is set when the conversation is shown as a form card: a file
	// sent in the chat then brings the form back.
	Form bool `json:"form,omitempty"`
	// Choices are the user ids offered, numbered from 1, when an answer
	// to the current (user) question matched several people.
	Choices []string `json:"choices,omitempty"`
	// Events are the ids of the latest events that started, advanced,
	// replaced or ended the conversation in this chat (oldest first, at
	// most maxConvEvents), written with the state they led to: a late
	// redelivery of one of them is a duplicate even when the dedupe
	// store failed open, and changes nothing.
	Events []string `json:"events,omitempty"`
	// Ended marks the record an ended conversation leaves behind (for
	// its Events only): no conversation is open.
	Ended bool `json:"ended,omitempty"`
	// raw is the record as this handler read or last wrote it (nil: there
	// was none): every write swaps it for the new one, so a handler never
	// overwrites what another handler of the chat wrote since it read
	// (errConvMoved).
	raw []byte
}

// errConvMoved is why a conversation write failed when another event of
// the chat changed the conversation since this one read it (a handler
// slowed by a restarting store, or frozen, waking up late): nothing is
// overwritten, and the event fails so that it is handled afresh.
var errConvMoved = errors.New("the conversation changed meanwhile")

// maxConvEvents bounds convState.Events.
const maxConvEvents = 64

// record adds the id of ev to the events of st.
func (st *convState) record(ev Event) {
	if ev.ID == "" || slices.Contains(st.Events, ev.ID) {
		return
	}
	st.Events = append(st.Events, ev.ID)
	if n := len(st.Events) - maxConvEvents; n > 0 {
		st.Events = slices.Delete(st.Events, 0, n)
	}
}

// digest is a short hash of what a summary card of the conversation
// shows: its values and the request it amends.
func (st *convState) digest() string {
	// Through JSON and back, as the state store keeps them: a value
	// parsed just now and the same value loaded give the same bytes
	// (map keys are sorted).
	raw, _ := json.Marshal(st.Values)
	var generic any
	_ = json.Unmarshal(raw, &generic)
	raw, _ = json.Marshal([]any{generic, st.Instance})
	sum := sha256.Sum256(raw)
	return hex.EncodeToString(sum[:8])
}

// convDef returns the definition a conversation fills: the pinned version
// of an amended request, else the latest version of the flow.
func (b *Bot) convDef(ctx context.Context, st *convState) (*flowdef.Definition, error) {
	if st.Version > 0 {
		return b.eng.Definition(ctx, st.Flow, st.Version)
	}
	return b.eng.FlowByAlias(ctx, st.Flow)
}

// convKey is the StateStore key of the conversation of one user in one chat.
func convKey(ev Event) string {
	return "conv:" + ev.Platform + ":" + ev.App + ":" + ev.UserID + ":" + ev.ChatID
}

// loadConv returns the open conversation of ev's chat (nil: none).
func (b *Bot) loadConv(ctx context.Context, ev Event) (*convState, error) {
	st, err := b.readConv(ctx, ev)
	if err != nil || st == nil || st.Ended {
		return nil, err
	}
	if st.Flow == "" {
		b.log.WarnContext(ctx, "dropping unreadable conversation", "key", convKey(ev))
		return nil, nil
	}
	return st, nil
}

// readConv returns the conversation record of ev's chat as stored, open
// or ended (nil: none, or unreadable).
func (b *Bot) readConv(ctx context.Context, ev Event) (*convState, error) {
	if b.cfg.State == nil {
		return nil, nil
	}
	raw, ok, err := b.readConvRaw(ctx, ev)
	if err != nil || !ok {
		return nil, err
	}
	var st convState
	if err := json.Unmarshal(raw, &st); err != nil {
		b.log.WarnContext(ctx, "dropping unreadable conversation", "key", convKey(ev), "err", err)
		return &convState{Ended: true, raw: raw}, nil // replaced by the next one
	}
	if st.Values == nil {
		st.Values = map[string]any{}
	}
	st.raw = raw
	return &st, nil
}

// readConvRaw returns the stored conversation record of ev's chat, as
// readConv decodes it; ok is false when there is none.
func (b *Bot) readConvRaw(ctx context.Context, ev Event) (raw []byte, ok bool, err error) {
	key := convKey(ev)
	m, _ := ctx.Value(convMemoKey{}).(*convMemo)
	raw, ok, found := m.get(key)
	if !found {
		if raw, ok, err = b.cfg.State.Get(ctx, key); err != nil {
			return nil, false, fmt.Errorf("load conversation: %w", err)
		}
		m.put(key, raw, ok)
	}
	return raw, ok, nil
}

// saveConv writes st as the conversation of ev's chat, with ev recorded
// as one of the events that changed it.
func (b *Bot) saveConv(ctx context.Context, ev Event, st *convState) error {
	st.record(ev)
	return b.writeConv(ctx, ev, st)
}

// writeConv writes st as it is (ev not recorded): for a state restored
// after an internal failure, whose event the platform delivers again.
func (b *Bot) writeConv(ctx context.Context, ev Event, st *convState) error {
	raw, err := json.Marshal(st)
	if err != nil {
		return fmt.Errorf("encode conversation: %w", err)
	}
	if err := b.swapConv(ctx, ev, st.raw, raw, b.cfg.ConversationTTL); err != nil {
		return fmt.Errorf("save conversation: %w", err)
	}
	st.raw = raw
	b.log.DebugContext(ctx, "conversation saved", "key", convKey(ev), "event", ev.ID, "token", st.Token, "pending", len(st.Pending))
	b.rememberConv(ctx, ev)
	return nil
}

// rememberConv records that the user had a conversation in ev's chat, so
// that text that is no command can say the conversation may have ended
// (and only then: a first-time user never had one). The record lasts a
// day; written by this process less than half of that ago, it is not
// written again (every answer of a conversation would write it).
func (b *Bot) rememberConv(ctx context.Context, ev Event) {
	key, ttl, now := convSeenKey(ev), max(convSeenTTL, 2*b.cfg.ConversationTTL), b.now()
	b.seenMu.Lock()
	at, ok := b.seen[key]
	b.seenMu.Unlock()
	if ok && now.Sub(at) >= 0 && now.Sub(at) < ttl/2 {
		return
	}
	if err := b.cfg.State.Set(ctx, key, []byte("1"), ttl); err != nil {
		b.log.WarnContext(ctx, "remember conversation", "err", err)
		return
	}
	b.seenMu.Lock()
	defer b.seenMu.Unlock()
	if b.seen == nil || len(b.seen) >= maxSeen {
		b.seen = map[string]time.Time{} // bounded: forgetting costs a write
	}
	b.seen[key] = now
}

// maxSeen bounds the conversation records a Bot remembers writing.
const maxSeen = 100_000

// endConv ends the conversation st of ev's chat: what is left is a record
// of the events that changed it, ev included, kept for DedupeTTL so that
// none of them changes the chat's conversation again.
func (b *Bot) endConv(ctx context.Context, ev Event, st *convState) error {
	end := &convState{Ended: true, Events: slices.Clone(st.Events)}
	end.record(ev)
	raw, err := json.Marshal(end)
	if err != nil {
		return fmt.Errorf("encode ended conversation: %w", err)
	}
	if err := b.swapConv(ctx, ev, st.raw, raw, max(b.cfg.DedupeTTL, b.cfg.ConversationTTL)); err != nil {
		return fmt.Errorf("end conversation: %w", err)
	}
	st.raw = raw
	b.log.DebugContext(ctx, "conversation ended", "key", convKey(ev), "event", ev.ID, "token", st.Token)
	return nil
}

// swapConv replaces the conversation record of ev's chat, old as this
// handler read it (nil: none), by raw; errConvMoved when the record is no
// longer old.
func (b *Bot) swapConv(ctx context.Context, ev Event, old, raw []byte, ttl time.Duration) error {
	key := convKey(ev)
	m, _ := ctx.Value(convMemoKey{}).(*convMemo)
	ok, err := b.cfg.State.Swap(ctx, key, old, raw, ttl)
	if err != nil {
		m.forget()
		return err
	}
	if !ok {
		m.forget()
		return errConvMoved
	}
	m.put(key, raw, true)
	return nil
}

// convMemo is the conversation record one event's handler last read or
// wrote, so that the duplicate check, the conversation's load and a new
// conversation's carried events read the store once per event. Reusing
// the read is safe: every write swaps the record read for the new one,
// so a record changed meanwhile by another handler fails the write
// (errConvMoved) rather than being overwritten. A failed read or write
// is not kept: the next read asks the store.
type convMemo struct {
	mu    sync.Mutex
	key   string
	raw   []byte
	ok    bool // the key held raw
	valid bool
}

type convMemoKey struct{}

// withConvMemo gives ctx the memo of one event's conversation reads.
func withConvMemo(ctx context.Context) context.Context {
	return context.WithValue(ctx, convMemoKey{}, &convMemo{})
}

func (m *convMemo) get(key string) (raw []byte, ok, found bool) {
	if m == nil {
		return nil, false, false
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.valid || m.key != key {
		return nil, false, false
	}
	return m.raw, m.ok, true
}

func (m *convMemo) put(key string, raw []byte, ok bool) {
	if m == nil {
		return
	}
	m.mu.Lock()
	m.key, m.raw, m.ok, m.valid = key, raw, ok, true
	m.mu.Unlock()
}

func (m *convMemo) forget() {
	if m == nil {
		return
	}
	m.mu.Lock()
	m.valid = false
	m.mu.Unlock()
}

// convDuplicate reports whether ev already changed the conversation of
// its chat (a redelivery the dedupe store did not catch). rep is then the
// answer: the current step again when ev is what led to it (the latest
// event of an open conversation: its first reply was made durable under
// the event's id, so it is not sent twice), nothing otherwise. An older
// event is no answer to the current step: a submit carried into the next
// conversation would show that conversation's summary a second time.
//
// When the current step cannot be shown (the database does not answer),
// the event fails (err) so that it is delivered again: its first reply
// may not have been made durable, and answering it with nothing would
// lose that reply for good.
func (b *Bot) convDuplicate(ctx context.Context, ev Event, u *flows.User) (rep Reply, dup bool, err error) {
	if ev.ID == "" || b.cfg.State == nil {
		return Reply{}, false, nil
	}
	// Most events are new: a record that does not hold the event's id
	// (as JSON writes it) anywhere cannot list it, and is not decoded.
	raw, ok, rerr := b.readConvRaw(ctx, ev)
	if id, _ := json.Marshal(ev.ID); rerr != nil || !ok || !bytes.Contains(raw, id) {
		return Reply{}, false, nil
	}
	st, rerr := b.readConv(ctx, ev)
	if rerr != nil || st == nil || !slices.Contains(st.Events, ev.ID) {
		// On a read error, commands that need no conversation still
		// work; carryEvents checks the events again on the record a new
		// conversation would replace.
		return Reply{}, false, nil
	}
	b.log.InfoContext(ctx, "event already changed the conversation, answered as a duplicate", "platform", ev.Platform, "event", ev.ID)
	rep = Reply{Outcome: OutcomeDuplicate}
	if !st.Ended && st.Flow != "" && ev.Action == nil && st.Events[len(st.Events)-1] == ev.ID {
		d, derr := b.convDef(ctx, st)
		if derr != nil {
			if msg, internal := b.explain(ctx, locale(u), derr); internal {
				return textReply(false, msg), true, derr
			}
			return rep, true, nil // the flow is gone: nothing to show
		}
		rep = b.next(locale(u), d, st, nil)
		rep.Outcome = OutcomeDuplicate
	}
	return rep, true, nil
}

// convSeenTTL is how long the bot remembers that a user had a
// conversation in a chat.
const convSeenTTL = 24 * time.Hour

func convSeenKey(ev Event) string { return "convseen:" + strings.TrimPrefix(convKey(ev), "conv:") }

// hadConv reports whether the user had a conversation in this chat lately.
func (b *Bot) hadConv(ctx context.Context, ev Event) bool {
	if b.cfg.State == nil {
		return false
	}
	_, ok, err := b.cfg.State.Get(ctx, convSeenKey(ev))
	return err == nil && ok
}

func newToken() string {
	var p [8]byte
	_, _ = rand.Read(p[:])
	return hex.EncodeToString(p[:])
}

// eventToken is the token of a conversation started by ev: derived from
// the event's id, so that the event handled twice (the dedupe store timed
// out and the bot failed open, or an attempt whose outcome was unknown was
// delivered again) starts the same conversation, and the Submit of any
// summary card it showed files the request (once: the token is the
// engine's submission key). Random for an event without an id.
func eventToken(ev Event) string {
	if ev.ID == "" {
		return newToken()
	}
	sum := sha256.Sum256([]byte("conv\x00" + ev.Platform + "\x00" + ev.App + "\x00" + ev.UserID + "\x00" + ev.ID))
	return hex.EncodeToString(sum[:8])
}

// carryEvents carries the events recorded in ev's chat into st, the
// conversation ev starts (which replaces any other): without them a late
// redelivery of one could replace st in turn.
func (b *Bot) carryEvents(ctx context.Context, ev Event, st *convState) error {
	old, err := b.readConv(ctx, ev)
	if err != nil {
		return fmt.Errorf("carry conversation events: %w", err)
	}
	if old != nil {
		if ev.ID != "" && slices.Contains(old.Events, ev.ID) {
			// ev changed this chat's conversation already (the duplicate
			// check did not see it: its read failed): it must not
			// replace it.
			return fmt.Errorf("carry conversation events: %w", errConvMoved)
		}
		st.Events, st.raw = old.Events, old.raw
	}
	return nil
}

// ErrStateDown is why an event failed when the conversation state store
// could not be read or written. Nothing of the event is kept, its reply
// included: the platform delivers it again (or the user, told to try
// again, clicks again) and it is handled afresh once the store answers.
// Answering it as done instead would let a later redelivery change the
// chat's conversation behind the user's back.
var ErrStateDown = errors.New("conversation state unavailable")

// stateDown answers an event whose conversation state could not be read
// or written: the user is asked to try again, and the event fails.
func (b *Bot) stateDown(ctx context.Context, loc string, click bool, what string, err error) (Reply, error) {
	b.log.WarnContext(ctx, what, "err", err)
	rep := textReply(click, T(loc, "state_down", nil))
	if click {
		rep.ToastKind = ToastError
	}
	return rep, fmt.Errorf("%s: %w: %w", what, ErrStateDown, err)
}

// skipWords skip an optional question.
var skipWords = []string{"skip", "跳过", "略过", "-", "无"}

// submitWords and cancelWords answer the summary by text.
var (
	submitWords = []string{"submit", "提交", "确认", "ok", "yes", "是"}
	cancelWords = []string{"cancel", "取消"}
)

// startFlow starts a conversation for flow d with the inline arguments of cmd.
func (b *Bot) startFlow(ctx context.Context, ev Event, u *flows.User, d *flowdef.Definition, cmd Command) (Reply, error) {
	loc := locale(u)
	if !b.eng.CanStart(ctx, u, d) {
		return textReply(false, T(loc, "flow_forbidden", map[string]any{"flow": d.Name.In(loc)})), nil
	}
	if len(cmd.Words) > 0 && formWord(cmd.Words[0]) {
		// "/leave form type=annual": the whole request as one form card.
		form := cmd
		form.Words = cmd.Words[1:]
		if len(form.Words) == 0 {
			return b.startForm(ctx, ev, u, d, form.Args)
		}
		cmd = form
	}
	if len(cmd.Words) > 0 {
		// A label with spaces ("Total amount=3600") is a key too.
		if c, err := ParseCommand(labelKeys(d, ev.Text)); err == nil && len(c.Words) == 0 {
			cmd = c
		}
	}
	if len(cmd.Words) > 0 {
		return textReply(false, T(loc, "arg_bare", map[string]any{"arg": truncate(cmd.Words[0], 40), "keys": fieldKeys(loc, d), "ex": keyExample(loc, d)})), nil
	}
	vals, problems, err := b.inlineValues(ctx, loc, d, cmd.Args)
	if err != nil {
		return b.fail(ctx, loc, err)
	}
	st := &convState{Flow: d.ID, Values: vals, Token: eventToken(ev)}
	if err := b.carryEvents(ctx, ev, st); err != nil {
		return b.stateDown(ctx, loc, false, "start conversation", err)
	}
	for _, f := range d.Fields {
		_, have := vals[f.ID]
		_, bad := problems[f.ID]
		if bad || (!have && (f.Required || len(cmd.Args) == 0)) {
			st.Pending = append(st.Pending, f.ID)
		}
	}
	st.Total = len(st.Pending)
	if b.cfg.State == nil {
		return textReply(false, T(loc, "state_down", nil)), nil
	}
	if err := b.saveConv(ctx, ev, st); err != nil {
		return b.stateDown(ctx, loc, false, "start conversation", err)
	}
	var notes []string
	for _, f := range d.Fields {
		if p, ok := problems[f.ID]; ok {
			notes = append(notes, T(loc, "answer_invalid", map[string]any{"label": f.Label.In(loc), "reason": p}))
		}
	}
	return b.next(loc, d, st, notes), nil
}

// inlineValues parses name=value arguments against d's fields. An unknown
// name is an error; a value that does not parse is a problem, asked again.
func (b *Bot) inlineValues(ctx context.Context, loc string, d *flowdef.Definition, args map[string]string) (map[string]any, map[string]string, error) {
	vals, problems := map[string]any{}, map[string]string{}
	texts := map[string]string{}
	var from, to string
	for k, v := range args {
		f := fieldByName(d, k)
		switch {
		case f != nil:
			texts[f.ID] = v
		case k == "from" || k == "start" || k == "开始":
			from = v
		case k == "to" || k == "end" || k == "结束":
			to = v
		default:
			return nil, nil, userErr("arg_unknown", map[string]any{"flow": d.Name.In(loc), "key": truncate(k, 40), "fields": fieldKeys(loc, d)})
		}
	}
	if from != "" || to != "" {
		var dr *flowdef.Field
		for i := range d.Fields {
			if d.Fields[i].Type == flowdef.FieldDateRange && texts[d.Fields[i].ID] == "" {
				dr = &d.Fields[i]
				break
			}
		}
		if dr == nil {
			k := "from"
			if from == "" {
				k = "to"
			}
			return nil, nil, userErr("arg_unknown", map[string]any{"flow": d.Name.In(loc), "key": k, "fields": fieldKeys(loc, d)})
		}
		texts[dr.ID] = from + "~" + to
	}
	for id, text := range texts {
		v, problem, err := b.parseAnswer(ctx, loc, d.Field(id), text)
		if err != nil {
			return nil, nil, err
		}
		if problem != "" {
			problems[id] = problem
			continue
		}
		vals[id] = v
	}
	return vals, problems, nil
}

// parseAnswer reads one answer for field f and checks every rule of the
// field when the answer is given: its format, min and max, pattern, dates
// not in the past where the flow says so, the order of a range, and for a
// user field that the person is in the directory (by id, name, email or
// @mention). problem says what is wrong, in loc; err is an internal error.
func (b *Bot) parseAnswer(ctx context.Context, loc string, f *flowdef.Field, text string) (v any, problem string, err error) {
	if f.Type == flowdef.FieldUser {
		q := strings.TrimLeft(strings.TrimSpace(text), "@")
		if q == "" {
			return nil, T(loc, "toast_need_user", nil), nil
		}
		u, err := b.findUser(ctx, q)
		if be := (*botError)(nil); errors.As(err, &be) && be.key == "user_ambiguous" {
			return nil, b.choicesText(ctx, loc, q), nil
		}
		if err != nil {
			msg, internal := b.explain(ctx, loc, err)
			if internal {
				return nil, "", err
			}
			return nil, msg, nil
		}
		return u.ID, "", nil
	}
	v, perr := flowdef.ParseInput(f, optionNumbers(f, text), b.localNow())
	if perr != nil {
		return nil, reasonText(loc, perr), nil
	}
	if r, ok := v.(flowdef.DateRange); ok && f.CountsWorkdays() && b.workdays(r) == 0 {
		return nil, T(loc, "no_workdays", nil), nil
	}
	return v, "", nil
}

// fieldKeys lists the keys of d's fields for name=value: each id with
// its label in loc ("amount (Amount)").
func fieldKeys(loc string, d *flowdef.Definition) string {
	keys := make([]string, len(d.Fields))
	for i, f := range d.Fields {
		keys[i] = f.ID
		if l := f.Label.In(loc); l != "" && !strings.EqualFold(l, f.ID) {
			if isZH(loc) {
				keys[i] += "（" + l + "）"
			} else {
				keys[i] += " (" + l + ")"
			}
		}
	}
	if isZH(loc) {
		return strings.Join(keys, "、")
	}
	return strings.Join(keys, ", ")
}

// keyExample is a name=value example with a real key of d: its first text
// field, else its first field.
func keyExample(loc string, d *flowdef.Definition) string {
	if len(d.Fields) == 0 {
		return ""
	}
	f := d.Fields[0]
	for _, x := range d.Fields {
		if x.Type == flowdef.FieldText || x.Type == flowdef.FieldTextarea {
			f = x
			break
		}
	}
	ex := "…"
	switch f.Type {
	case flowdef.FieldSelect, flowdef.FieldMultiSelect:
		if len(f.Options) > 0 {
			ex = f.Options[0].Value
		}
	case flowdef.FieldDate:
		ex = "2026-12-01"
	case flowdef.FieldUser:
		ex = "lilei"
	case flowdef.FieldBool:
		ex = "yes"
	case flowdef.FieldText, flowdef.FieldTextarea:
		// No made-up content: an example of another field's meaning
		// ("family matters" for a name) misleads.
	default:
		ex = example(loc, &f)
	}
	if strings.ContainsAny(ex, " ") {
		ex = `"` + ex + `"`
	}
	return f.ID + "=" + ex
}

// labelKeys replaces "Label=" by "id=" in text for the labels of d that
// hold spaces (which ParseCommand would split), in either language and
// any case, so that every label is a key.
func labelKeys(d *flowdef.Definition, text string) string {
	lower := strings.ToLower(text)
	for _, f := range d.Fields {
		for _, l := range []string{f.Label.ZH, f.Label.EN} {
			if !strings.ContainsAny(l, " \t") {
				continue
			}
			for _, eq := range []string{"=", "＝"} {
				key := strings.ToLower(l) + eq
				for {
					i := strings.Index(lower, key)
					if i < 0 {
						break
					}
					text = text[:i] + f.ID + "=" + text[i+len(key):]
					lower = lower[:i] + f.ID + "=" + lower[i+len(key):]
				}
			}
		}
	}
	return text
}

// fieldByName finds a field by id or label (case-insensitive).
func fieldByName(d *flowdef.Definition, name string) *flowdef.Field {
	for i := range d.Fields {
		f := &d.Fields[i]
		if strings.EqualFold(f.ID, name) || strings.EqualFold(f.Label.ZH, name) || strings.EqualFold(f.Label.EN, name) {
			return f
		}
	}
	return nil
}

// reasonText is the user-facing reason of a ParseInput error.
func reasonText(loc string, err error) string {
	var ve *flowdef.ValueError
	if errors.As(err, &ve) {
		return ve.Reason.In(loc)
	}
	return err.Error()
}

// optionNumbers replaces option numbers ("2", "1,3") by option values in
// answers to select and multiselect fields.
func optionNumbers(f *flowdef.Field, text string) string {
	text = strings.TrimSpace(text)
	if f.Type != flowdef.FieldSelect && f.Type != flowdef.FieldMultiSelect {
		return text
	}
	pick := func(s string) string {
		s = strings.TrimSpace(s)
		if n, err := strconv.Atoi(s); err == nil && n >= 1 && n <= len(f.Options) {
			return f.Options[n-1].Value
		}
		return s
	}
	if f.Type == flowdef.FieldSelect {
		return pick(text)
	}
	parts := strings.FieldsFunc(text, func(r rune) bool { return r == ',' || r == '，' || r == '、' || r == ' ' || r == ';' || r == '；' })
	for i, p := range parts {
		parts[i] = pick(p)
	}
	return strings.Join(parts, ",")
}

// answer handles a message while a conversation is open.
func (b *Bot) answer(ctx context.Context, ev Event, u *flows.User, st *convState, text string) (Reply, error) {
	loc := locale(u)
	d, err := b.convDef(ctx, st)
	if err != nil {
		// Only a flow that is gone ends the conversation. When the
		// database did not answer (fail returns the error), it stays as
		// it is and the event fails, so that its redelivery (a typed
		// "submit", say) is answered afresh: ending it would record the
		// event, and the redelivery would be dropped as a duplicate with
		// the form unfiled.
		rep, ferr := b.fail(ctx, loc, err)
		if ferr == nil {
			b.abandonConv(ctx, ev)
		}
		return rep, ferr
	}
	lower := strings.ToLower(text)
	if len(st.Pending) == 0 {
		switch {
		case slices.Contains(submitWords, lower):
			return b.submitConv(ctx, ev, u, st.Token, "", false)
		case slices.Contains(cancelWords, lower):
			return b.cancelConv(ctx, ev, u)
		}
		if rep, ok, err := b.edit(ctx, ev, loc, d, st, text); ok {
			return rep, err
		}
		rep := b.next(loc, d, st, nil)
		rep.Messages = append([]Message{{Text: T(loc, "confirm_hint", nil)}}, rep.Messages...)
		return rep, nil
	}
	f := d.Field(st.Pending[0])
	if f == nil { // the flow changed under the conversation
		st.Pending = st.Pending[1:]
		return b.saveAndNext(ctx, ev, loc, d, st, nil)
	}
	if slices.Contains(skipWords, lower) {
		if f.Required {
			return b.next(loc, d, st, []string{T(loc, "answer_needed", map[string]any{"label": f.Label.In(loc)})}), nil
		}
		delete(st.Values, f.ID)
		st.Pending = st.Pending[1:]
		return b.saveAndNext(ctx, ev, loc, d, st, nil)
	}
	// "field=value" for the field asked is its answer.
	if cmd, perr := ParseCommand(labelKeys(d, text)); perr == nil && cmd.Name == "" && len(cmd.Words) == 0 && len(cmd.Args) == 1 {
		for k, val := range cmd.Args {
			if g := fieldByName(d, k); g != nil && g.ID == f.ID {
				text = val
			}
		}
	}
	if n, err := strconv.Atoi(strings.TrimSpace(text)); err == nil && f.Type == flowdef.FieldUser && n >= 1 && n <= len(st.Choices) {
		text = st.Choices[n-1] // a number picks one of the people offered
	}
	v, problem, err := b.parseAnswer(ctx, loc, f, text)
	if err != nil {
		return b.fail(ctx, loc, err)
	}
	if problem != "" {
		note := T(loc, "answer_invalid", map[string]any{"label": f.Label.In(loc), "reason": problem})
		st.Choices = nil
		if f.Type == flowdef.FieldUser {
			if found, ferr := b.matchUsers(ctx, strings.TrimLeft(strings.TrimSpace(text), "@")); ferr == nil && len(found) > 1 {
				for _, x := range found {
					st.Choices = append(st.Choices, x.ID)
				}
				return b.saveAndNext(ctx, ev, loc, d, st, []string{note})
			}
		}
		return b.next(loc, d, st, []string{note}), nil
	}
	st.Choices = nil
	st.Values[f.ID] = v
	st.Pending = st.Pending[1:]
	return b.saveAndNext(ctx, ev, loc, d, st, nil)
}

// edit changes a conversation that waits for confirmation: "name=value"
// arguments (field id or label) set fields, a field's id or label alone
// asks that field again. ok is false when text is neither.
func (b *Bot) edit(ctx context.Context, ev Event, loc string, d *flowdef.Definition, st *convState, text string) (rep Reply, ok bool, err error) {
	cmd, perr := ParseCommand(labelKeys(d, text))
	if perr != nil {
		return textReply(false, T(loc, "arg_quote", nil)), true, nil
	}
	if cmd.Slash || len(cmd.Words) > 0 {
		return Reply{}, false, nil
	}
	if cmd.Name == "" && len(cmd.Args) > 0 {
		vals, problems, verr := b.inlineValues(ctx, loc, d, cmd.Args)
		if verr != nil {
			msg, _ := b.explain(ctx, loc, verr)
			return b.next(loc, d, st, []string{msg}), true, nil
		}
		var notes []string
		for _, f := range d.Fields {
			if p, bad := problems[f.ID]; bad {
				notes = append(notes, T(loc, "answer_invalid", map[string]any{"label": f.Label.In(loc), "reason": p}))
			} else if v, set := vals[f.ID]; set {
				st.Values[f.ID] = v
				notes = append(notes, T(loc, "field_changed", map[string]any{"label": f.Label.In(loc), "value": truncate(b.formatValue(loc, &f, v), 100)}))
			}
		}
		rep, err := b.saveAndNext(ctx, ev, loc, d, st, notes)
		return rep, true, err
	}
	if f := fieldByName(d, strings.TrimSpace(text)); f != nil && len(cmd.Args) == 0 {
		st.Pending, st.Total = []string{f.ID}, 1
		rep, err := b.saveAndNext(ctx, ev, loc, d, st, nil)
		return rep, true, err
	}
	return Reply{}, false, nil
}

func (b *Bot) saveAndNext(ctx context.Context, ev Event, loc string, d *flowdef.Definition, st *convState, notes []string) (Reply, error) {
	if err := b.saveConv(ctx, ev, st); err != nil {
		return b.stateDown(ctx, loc, false, "continue conversation", err)
	}
	rep := b.next(loc, d, st, notes)
	b.showBalance(ctx, ev, loc, d, st, &rep)
	return rep, nil
}

// next shows notes, then the current question or the summary card.
func (b *Bot) next(loc string, d *flowdef.Definition, st *convState, notes []string) Reply {
	var rep Reply
	if len(st.Pending) == 0 {
		if len(notes) > 0 {
			rep.Messages = append(rep.Messages, Message{Text: strings.Join(notes, "\n")})
		}
		rep.Messages = append(rep.Messages, Message{Card: b.summaryCard(loc, d, st)})
		return rep
	}
	f := d.Field(st.Pending[0])
	lines := append([]string{}, notes...)
	if len(lines) > 0 {
		lines = append(lines, "")
	}
	n := st.Total - len(st.Pending) + 1
	lines = append(lines, T(loc, "ask_header", map[string]any{"flow": d.Name.In(loc), "n": n, "total": max(st.Total, n)}))
	req := T(loc, "ask_optional", nil)
	if f.Required {
		req = T(loc, "ask_required", nil)
	}
	// A question is a text message: platforms show no markdown there.
	lines = append(lines, f.Label.In(loc)+req)
	if h := f.Help.In(loc); h != "" {
		lines = append(lines, h)
	}
	if len(f.Options) > 0 {
		lines = append(lines, T(loc, "ask_options", nil))
		for i, o := range f.Options {
			lines = append(lines, fmt.Sprintf("%d. %s", i+1, o.Label.In(loc)))
		}
		if f.Type == flowdef.FieldMultiSelect {
			lines = append(lines, T(loc, "ask_multi", nil))
		}
	}
	// A format example for typed fields when the help gives none; free
	// text gets its hint from its own definition or none.
	if h := strings.ToLower(f.Help.In(loc)); f.Type != flowdef.FieldText && f.Type != flowdef.FieldTextarea &&
		!strings.Contains(h, "例如") && !strings.Contains(h, "e.g.") && !strings.Contains(h, "for example") {
		lines = append(lines, T(loc, "ask_example", map[string]any{"ex": example(loc, f)}))
	}
	lines = append(lines, T(loc, "ask_cancel", nil))
	rep.Messages = append(rep.Messages, Message{Text: strings.Join(lines, "\n")})
	return rep
}

func example(loc string, f *flowdef.Field) string {
	switch f.Type {
	case flowdef.FieldNumber, flowdef.FieldMoney, flowdef.FieldDate, flowdef.FieldDateRange, flowdef.FieldUser, flowdef.FieldBool, flowdef.FieldFile:
		return T(loc, "ex_"+string(f.Type), nil)
	case flowdef.FieldSelect, flowdef.FieldMultiSelect:
		if len(f.Options) > 0 {
			return "1 / " + f.Options[0].Label.In(loc)
		}
		return T(loc, "ex_select", nil)
	}
	return T(loc, "ex_text", nil)
}

// summaryCard shows the values of a conversation with Submit and Cancel.
func (b *Bot) summaryCard(loc string, d *flowdef.Definition, st *convState) *Card {
	c := &Card{Title: T(loc, "summary_title", map[string]any{"flow": d.Name.In(loc)}), Color: ColorBlue}
	hint, submit := "summary_hint", "btn_submit"
	if st.Instance > 0 {
		c.Title = T(loc, "amend_title", map[string]any{"flow": d.Name.In(loc), "number": st.Number})
		hint, submit = "amend_hint", "btn_resubmit"
	}
	vals := normalize(d, st.Values, b.now())
	shown := 0
	for i := range d.Fields {
		f := &d.Fields[i]
		v, ok := vals[f.ID]
		if !ok {
			continue
		}
		if shown == maxCardFields {
			c.Note = T(loc, "summary_more", map[string]any{"n": len(vals) - shown})
			break
		}
		c.Fields = append(c.Fields, Field{Label: f.Label.In(loc), Value: truncate(b.formatValue(loc, f, v), maxFieldText)})
		shown++
	}
	c.Markdown = T(loc, hint, map[string]any{"keys": fieldKeys(loc, d), "ex": keyExample(loc, d)})
	// The Submit button carries the digest of the values the card shows:
	// an older card, showing other values, is refused.
	val := map[string]string{"conv": st.Token, "v": st.digest()}
	c.Buttons = []Button{
		{Label: T(loc, submit, nil), Action: "submit", Value: val, Style: StylePrimary},
		{Label: T(loc, "btn_edit_form", nil), Action: actionForm, Value: map[string]string{"conv": st.Token}, Style: StyleDefault},
		{Label: T(loc, "btn_cancel", nil), Action: "cancel", Value: map[string]string{"conv": st.Token}, Style: StyleDefault},
	}
	return c
}

// normalize turns stored (JSON-decoded) values back into canonical ones;
// values that no longer fit the field are dropped.
func normalize(d *flowdef.Definition, in map[string]any, now time.Time) flowdef.Values {
	out := flowdef.Values{}
	for k, v := range in {
		f := d.Field(k)
		if f == nil || v == nil {
			continue
		}
		nv, err := flowdef.Normalize(f, v, now)
		if err != nil {
			continue
		}
		out[k] = nv
	}
	return out
}
