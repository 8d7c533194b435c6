package bots

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/flowbot/flowbot/flows"
	"github.com/flowbot/flowbot/flows/flowdef"
)

// builtin is a command of the bot itself (not a flow).
type builtin struct {
	id    string
	words []string // the first is the canonical /word
	help  string   // catalog key of the help line
}

// builtins are the bot's commands, in help order. Read-only.
var builtins = []builtin{
	{"todo", []string{"todo", "待办", "待审批"}, "help_todo"},
	{"mine", []string{"mine", "我的申请", "我的"}, "help_mine"},
	{"status", []string{"status", "进度", "查询"}, "help_status"},
	{"withdraw", []string{"withdraw", "撤回"}, "help_withdraw"},
	{"urge", []string{"urge", "催办"}, "help_urge"},
	{"rate", []string{"rate", "评价", "评分"}, "help_rate"},
	{"resubmit", []string{"resubmit", "重新提交", "amend"}, "help_resubmit"},
	{"copy", []string{"copy", "复制", "再次提交"}, "help_copy"},
	{"stats", []string{"stats", "统计"}, "help_stats"},
	{"delegate", []string{"delegate", "委托", "代理"}, "help_delegate"},
	{"whoami", []string{"whoami", "我是谁", "我的账号"}, "help_whoami"},
	{"prefer", []string{"prefer", "首选平台", "偏好平台"}, "help_prefer"},
	{"flows", []string{"flows", "流程"}, "help_flowscmd"},
	{"help", []string{"help", "帮助", "?", "？"}, "help_help"},
	{"cancel", []string{"cancel", "取消"}, "help_cancel"},
}

// KnownCommand is the canonical name of a command word ("/todo", "待办"
// and "/TODO" are all "todo"), or "unknown": a label of bounded
// cardinality, whatever a sender types.
func KnownCommand(word string) string {
	if bi := findBuiltin(strings.ToLower(strings.TrimPrefix(word, "/"))); bi != nil {
		return bi.id
	}
	return "unknown"
}

func findBuiltin(word string) *builtin {
	for i := range builtins {
		if slices.Contains(builtins[i].words, word) {
			return &builtins[i]
		}
	}
	return nil
}

// message handles a text message.
func (b *Bot) message(ctx context.Context, ev Event, u *flows.User) (Reply, error) {
	loc := locale(u)
	if rep, dup, err := b.convDuplicate(ctx, ev, u); dup {
		return rep, err
	}
	if ev.File != nil {
		return b.fileMessage(ctx, ev, u)
	}
	if n := utf8.RuneCountInString(ev.Text); n > MaxTextChars {
		return textReply(false, T(loc, "too_long", map[string]any{"size": n, "max": MaxTextChars})), nil
	}
	text := strings.TrimSpace(ev.Text)
	if text == "" {
		return textReply(false, T(loc, "empty_hint", nil)), nil
	}
	cmd, perr := ParseCommand(text)
	bi := findBuiltin(cmd.Name)
	if perr != nil {
		bi = nil
	}
	// A plain text answers the open conversation unless it looks like a
	// command: a command or flow word alone or with name=value arguments.
	var flow *flowdef.Definition
	if perr == nil && bi == nil && cmd.Name != "" && len(cmd.Words) == 0 {
		if d, err := b.eng.FlowByAlias(ctx, cmd.Name); err == nil {
			flow = d
		}
	}
	looksLikeCommand := cmd.Slash || (len(cmd.Words) == 0 && (flow != nil || (bi != nil && len(cmd.Args) == 0)))
	if !looksLikeCommand && b.cfg.State != nil {
		st, err := b.loadConv(ctx, ev)
		if err != nil {
			if bi == nil {
				return b.stateDown(ctx, loc, false, "load conversation", err)
			}
			b.log.WarnContext(ctx, "load conversation", "err", err)
		} else if st != nil {
			return b.answer(ctx, ev, u, st, text)
		}
	}
	if perr != nil {
		return textReply(false, T(loc, "arg_quote", nil)), nil
	}
	if bi != nil {
		if bi.id != "cancel" {
			b.abandonConv(ctx, ev)
		}
		return b.runBuiltin(ctx, ev, u, bi, cmd)
	}
	if flow != nil {
		return b.startFlow(ctx, ev, u, flow, cmd)
	}
	if cmd.Name != "" {
		d, err := b.eng.FlowByAlias(ctx, cmd.Name)
		if err == nil {
			return b.startFlow(ctx, ev, u, d, cmd)
		}
		if flows.ErrorCode(err) != flows.CodeNotFound {
			return b.fail(ctx, loc, err)
		}
	}
	return b.unknown(ctx, ev, u, cmd, text)
}

// unknown answers a message that is no command: a suggestion and the hint.
func (b *Bot) unknown(ctx context.Context, ev Event, u *flows.User, cmd Command, text string) (Reply, error) {
	loc := locale(u)
	if !cmd.Slash && isGreeting(text) {
		return textReply(false, T(loc, "greeting", map[string]any{"name": u.Name})), nil
	}
	words := []string{}
	for _, bi := range builtins {
		words = append(words, bi.words...)
	}
	if defs, err := b.eng.Flows(ctx); err == nil {
		for _, d := range defs {
			words = append(words, strings.ToLower(d.ID))
			for _, a := range d.Aliases {
				words = append(words, strings.ToLower(a))
			}
		}
	} else {
		b.log.WarnContext(ctx, "list flows for suggestion", "err", err)
	}
	var lines []string
	if cmd.Slash {
		lines = append(lines, T(loc, "unknown_cmd", map[string]any{"cmd": "/" + cmd.Name}))
	} else {
		key := "not_understood_plain"
		if b.hadConv(ctx, ev) {
			key = "not_understood"
		}
		lines = append(lines, T(loc, key, map[string]any{"text": truncate(text, 40), "ttl": b.ttlText(loc)}))
	}
	if cmd.Name != "" {
		if s, ok := closest(cmd.Name, words); ok {
			lines = append(lines, T(loc, "did_you_mean", map[string]any{"cmd": s}))
		}
	}
	lines = append(lines, T(loc, "help_hint", nil))
	return textReply(false, strings.Join(lines, "\n")), nil
}

// greetings are the messages answered with a greeting and the hint.
var greetings = map[string]bool{
	"hello": true, "hi": true, "hey": true, "hallo": true, "good morning": true,
	"你好": true, "您好": true, "嗨": true, "哈喽": true, "在吗": true, "在么": true, "早": true, "早上好": true,
}

// isGreeting reports whether text is a bare greeting ("Hi!", "你好～").
func isGreeting(text string) bool {
	t := strings.ToLower(strings.TrimSpace(text))
	t = strings.TrimRight(t, "!！.。~～?？ ")
	return greetings[t]
}

func (b *Bot) ttlText(loc string) string { return duration(loc, b.cfg.ConversationTTL) }

func (b *Bot) runBuiltin(ctx context.Context, ev Event, u *flows.User, bi *builtin, cmd Command) (Reply, error) {
	loc := locale(u)
	switch bi.id {
	case "help":
		return b.help(ctx, u)
	case "flows":
		return b.flowList(ctx, u)
	case "todo":
		return b.todo(ctx, u)
	case "mine":
		return b.mine(ctx, u, strings.Join(cmd.Words, " "))
	case "stats":
		return b.stats(ctx, u)
	case "cancel":
		if len(cmd.Words) > 0 { // /cancel N [reason]: cancel an approved request
			return b.cancelRequest(ctx, u, cmd.Words[0], strings.Join(cmd.Words[1:], " "))
		}
		return b.cancelConv(ctx, ev, u)
	case "delegate":
		return b.delegate(ctx, u, cmd)
	case "whoami":
		return b.whoami(ctx, u)
	case "prefer":
		return b.prefer(ctx, u, cmd.Words)
	}
	// Commands on one request.
	if len(cmd.Words) == 0 {
		return textReply(false, T(loc, "arg_missing", map[string]any{"cmd": bi.words[0]})), nil
	}
	v, err := b.viewRef(ctx, cmd.Words[0])
	if err != nil {
		return b.fail(ctx, loc, err)
	}
	switch bi.id {
	case "status":
		if !b.canSee(u, v) {
			return textReply(false, T(loc, "not_visible", map[string]any{"ref": v.Instance.Number})), nil
		}
		// The whole timeline, paged: /status N [page].
		page := 1
		if len(cmd.Words) > 1 {
			if p, err := strconv.Atoi(cmd.Words[1]); err == nil && p > 0 {
				page = p
			}
		}
		c := b.requestCardPage(v, u, page)
		c.About = &About{InstanceID: v.Instance.ID}
		b.addForecast(loc, b.zone(u), v, b.forecast(ctx, v), c)
		return Reply{Messages: []Message{{Card: c}}}, nil
	case "resubmit":
		return b.amend(ctx, ev, u, v, false)
	case "copy":
		return b.copyRequest(ctx, ev, u, v)
	case "rate":
		return b.rateCommand(ctx, u, v, cmd.Words)
	case "withdraw":
		out, err := b.eng.Withdraw(ctx, u.ID, v.Instance.ID, strings.Join(cmd.Words[1:], " "))
		if err != nil {
			return b.fail(ctx, loc, err)
		}
		c := b.RequestCard(b.withRoute(ctx, b.outcomeView(out, v.Events)), u)
		c.Markdown = T(loc, "toast_withdrawn", nil) + "\n\n" + c.Markdown
		return Reply{Messages: []Message{{Card: c}}}, nil
	default: // urge
		out, err := b.eng.Urge(ctx, u.ID, v.Instance.ID)
		if err != nil {
			return b.fail(ctx, loc, err)
		}
		c := b.RequestCard(b.withRoute(ctx, b.outcomeView(out, v.Events)), u)
		c.Markdown = T(loc, "toast_urged", nil) + "\n\n" + c.Markdown
		return Reply{Messages: []Message{{Card: c}}}, nil
	}
}

// viewRef loads a request by number (case-insensitive) or numeric id.
func (b *Bot) viewRef(ctx context.Context, ref string) (*flows.View, error) {
	ref = strings.TrimSpace(ref)
	if id, err := strconv.ParseInt(ref, 10, 64); err == nil && id > 0 {
		return b.eng.View(ctx, id)
	}
	return b.eng.ViewByNumber(ctx, ref)
}

// canSee reports whether u may look at a request: the applicant, anyone
// with a task on it, anyone it was copied to, admins and auditors (the
// rule the REST API uses too: flows.CanSee).
func (b *Bot) canSee(u *flows.User, v *flows.View) bool {
	return flows.CanSee(u, v.Instance, v.Tasks, v.Events) == nil
}

func (b *Bot) help(ctx context.Context, u *flows.User) (Reply, error) {
	loc := locale(u)
	lines := []string{T(loc, "help_title", nil)}
	defs, err := b.startable(ctx, u)
	if err != nil {
		return b.fail(ctx, loc, err)
	}
	lines = append(lines, "", T(loc, "help_flows", nil))
	for _, d := range defs {
		lines = append(lines, "• "+b.flowLine(loc, d))
	}
	if len(defs) == 0 {
		lines = append(lines, T(loc, "no_flows", nil))
	}
	lines = append(lines, "", T(loc, "help_commands", nil))
	for _, bi := range builtins {
		lines = append(lines, T(loc, bi.help, nil))
	}
	lines = append(lines, "", T(loc, "help_cards", nil), "", T(loc, "help_args", nil))
	return textReply(false, strings.Join(lines, "\n")), nil
}

func (b *Bot) flowLine(loc string, d *flowdef.Definition) string {
	sep := ", "
	if isZH(loc) {
		sep = "、"
	}
	return T(loc, "flow_line", map[string]any{"id": d.ID, "aliases": strings.Join(d.Aliases, sep), "name": d.Name.In(loc)})
}

// startable lists the flows u may start.
func (b *Bot) startable(ctx context.Context, u *flows.User) ([]*flowdef.Definition, error) {
	defs, err := b.eng.Flows(ctx)
	if err != nil {
		return nil, err
	}
	var out []*flowdef.Definition
	for _, d := range defs {
		if b.eng.CanStart(ctx, u, d) {
			out = append(out, d)
		}
	}
	return out, nil
}

func (b *Bot) flowList(ctx context.Context, u *flows.User) (Reply, error) {
	loc := locale(u)
	defs, err := b.startable(ctx, u)
	if err != nil {
		return b.fail(ctx, loc, err)
	}
	if len(defs) == 0 {
		return textReply(false, T(loc, "no_flows", nil)), nil
	}
	c := &Card{Title: T(loc, "flows_title", nil), Color: ColorBlue}
	var md []string
	for _, d := range defs {
		line := "• " + b.flowLine(loc, d)
		if desc := d.Description.In(loc); desc != "" {
			line += "\n  " + truncate(desc, 120)
		}
		md = append(md, line)
	}
	c.Markdown = strings.Join(md, "\n")
	return Reply{Messages: []Message{{Card: c}}}, nil
}

// maxListCards bounds how many task cards /todo sends at once.
const maxListCards = 10

func (b *Bot) todo(ctx context.Context, u *flows.User) (Reply, error) {
	loc := locale(u)
	ts, err := b.eng.Todo(ctx, u.ID)
	if err != nil {
		return b.fail(ctx, loc, err)
	}
	if len(ts) == 0 {
		return textReply(false, T(loc, "todo_none", nil)), nil
	}
	rep := Reply{Messages: []Message{{Text: T(loc, "todo_header", map[string]any{"n": len(ts)})}}}
	for i, t := range ts {
		if i == maxListCards {
			rep.Messages = append(rep.Messages, Message{Text: T(loc, "list_more", map[string]any{"n": len(ts) - i})})
			break
		}
		v, err := b.eng.View(ctx, t.InstanceID)
		if err != nil {
			return b.fail(ctx, loc, err)
		}
		rep.Messages = append(rep.Messages, Message{Card: b.TaskCard(v, findTask(v.Tasks, t.ID, t), u)})
	}
	return rep, nil
}

// maxListFields bounds the lines of a list card.
const maxListFields = 15

// mineStatuses are the statuses /mine filters by, in the order its hint
// lists them.
var mineStatuses = []flows.Status{flows.StatusPending, flows.StatusReturned, flows.StatusApproved, flows.StatusRejected, flows.StatusWithdrawn, flows.StatusFailed}

// mineFilter reads /mine's status filter: a status id or its name in
// either language ("pending", "审批中", "Approved"). ok is false for
// anything else.
func mineFilter(word string) (flows.Status, bool) {
	w := strings.ToLower(strings.TrimSpace(word))
	for _, st := range mineStatuses {
		t := catalog["st_"+string(st)]
		if w == string(st) || w == strings.ToLower(t.ZH) || w == strings.ToLower(t.EN) ||
			strings.TrimPrefix(t.ZH, "已") == w {
			return st, true
		}
	}
	return "", false
}

// mine lists the user's requests, newest first, with the date each was
// filed and a button that opens it; filter ("" = all) keeps one status.
func (b *Bot) mine(ctx context.Context, u *flows.User, filter string) (Reply, error) {
	loc := locale(u)
	var want flows.Status
	if filter != "" {
		st, ok := mineFilter(filter)
		if !ok {
			names := make([]string, len(mineStatuses))
			for i, st := range mineStatuses {
				names[i] = statusText(loc, st)
			}
			return textReply(false, T(loc, "mine_filter_unknown", map[string]any{"q": truncate(filter, 40), "statuses": strings.Join(names, " / ")})), nil
		}
		want = st
	}
	f := flows.InstanceFilter{Applicant: u.ID, Limit: maxListFields + 1}
	if want != "" {
		f.Status = []flows.Status{want}
	}
	ins, err := b.store.Instances(ctx, f)
	if err != nil {
		return b.fail(ctx, loc, fmt.Errorf("list requests of %s: %w", u.ID, err))
	}
	if len(ins) == 0 {
		if want != "" {
			return textReply(false, T(loc, "mine_none_status", map[string]any{"status": statusText(loc, want)})), nil
		}
		return textReply(false, T(loc, "mine_none", nil)), nil
	}
	c := &Card{Title: T(loc, "mine_title", nil), Color: ColorBlue}
	if want != "" {
		c.Title = T(loc, "mine_title_status", map[string]any{"status": statusText(loc, want)})
	}
	tz := b.zone(u)
	for i, in := range ins {
		if i == maxListFields {
			c.Note = T(loc, "list_more", map[string]any{"n": "≥1"})
			break
		}
		flow, step := in.FlowID, ""
		if d, err := b.eng.Definition(ctx, in.FlowID, in.FlowVersion); err == nil {
			flow = d.Name.In(loc)
			if s, _ := d.Step(in.StepID); s != nil && in.Status.Open() {
				step = " · " + s.Name.In(loc)
			}
		}
		c.Fields = append(c.Fields, Field{
			Label: in.Number,
			Value: T(loc, "mine_line", map[string]any{"flow": flow, "status": statusText(loc, in.Status), "step": step,
				"date": in.CreatedAt.In(tz).Format("2006-01-02 15:04")}),
		})
		c.Buttons = append(c.Buttons, Button{Label: in.Number, Action: "view", Value: map[string]string{"instance": strconv.FormatInt(in.ID, 10)}, Style: StyleDefault})
	}
	c.Markdown = T(loc, "mine_hint", nil)
	return Reply{Messages: []Message{{Card: c}}}, nil
}

func findTask(ts []*flows.Task, id int64, fallback *flows.Task) *flows.Task {
	for _, t := range ts {
		if t.ID == id {
			return t
		}
	}
	return fallback
}

// abandonConv drops the conversation of the event's chat, best effort and
// quickly: commands that need no state must work while the StateStore is down.
func (b *Bot) abandonConv(ctx context.Context, ev Event) {
	if b.cfg.State == nil {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	st, err := b.loadConv(ctx, ev)
	if err == nil && st != nil {
		err = b.endConv(ctx, ev, st)
	}
	if err != nil {
		b.log.DebugContext(ctx, "abandon conversation", "err", err)
	}
}

func (b *Bot) cancelConv(ctx context.Context, ev Event, u *flows.User) (Reply, error) {
	loc := locale(u)
	if b.cfg.State == nil {
		return textReply(false, T(loc, "conv_none", nil)), nil
	}
	st, err := b.loadConv(ctx, ev)
	if err == nil && st != nil {
		err = b.endConv(ctx, ev, st)
	}
	if err != nil {
		return b.stateDown(ctx, loc, false, "cancel conversation", err)
	}
	if st == nil {
		return textReply(false, T(loc, "conv_none", nil)), nil
	}
	return textReply(false, T(loc, "conv_cancelled", nil)), nil
}
