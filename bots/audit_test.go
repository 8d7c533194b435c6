package bots_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/bots"
	"github.com/flowbot/flowbot/flows"
	"github.com/flowbot/flowbot/flows/flowdef"
)

// answerFor is a valid answer to field f in the conversation.
func answerFor(f *flowdef.Field) string {
	switch f.Type {
	case flowdef.FieldMoney:
		return "120"
	case flowdef.FieldNumber:
		return "2"
	case flowdef.FieldSelect, flowdef.FieldMultiSelect:
		return "1"
	case flowdef.FieldDate:
		return "2026-12-21"
	case flowdef.FieldDateRange:
		return "2026-12-21~2026-12-22"
	case flowdef.FieldUser:
		return "李雷"
	case flowdef.FieldBool:
		return "yes"
	}
	return "abc"
}

// Defect 5, every example flow in both languages: no question bubble
// shows raw markdown, and a free-text field shows an example only when its
// own definition gives one (no "家里有事 / family matters" under
// Description, Item, Vendor or New hire name).
func TestEveryQuestionBubbleIsPlainAndHintsItsOwnField(t *testing.T) {
	t.Parallel()
	for _, loc := range []string{"zh-CN", "en"} {
		t.Run(loc, func(t *testing.T) {
			t.Parallel()
			b := setupExamples(t)
			users, err := b.db.Users(b.ctx)
			require.NoError(t, err)
			depts, err := b.db.Departments(b.ctx)
			require.NoError(t, err)
			for _, u := range users {
				if u.ID == "wuqiang" { // IT and admin: may start every flow
					u.Locale = loc
				}
			}
			require.NoError(t, b.db.ReplaceDirectory(b.ctx, users, depts))
			b.bot = bots.New(bots.Config{Engine: b.engine, State: b.state})
			defs, err := b.engine.Flows(b.ctx)
			require.NoError(t, err)
			checked := 0
			for _, d := range defs {
				if d.Cancel == nil && d.OnApproved.CancelField != "" {
					continue // a cancel flow is started by /cancel N
				}
				got := text(b.say(t, "wuqiang", "/"+d.ID))
				for range 2 * len(d.Fields) {
					if !strings.Contains(got, d.Name.In(loc)+" ·") {
						break // the summary card: every question asked
					}
					require.NotContains(t, got, "**", "%s: raw markdown in %q", d.ID, got)
					var f *flowdef.Field
					for i := range d.Fields {
						if strings.Contains(got, "\n"+d.Fields[i].Label.In(loc)) {
							f = &d.Fields[i]
						}
					}
					require.NotNil(t, f, "%s: which field does %q ask?", d.ID, got)
					if f.Type == flowdef.FieldText || f.Type == flowdef.FieldTextarea {
						own := f.Help.In(loc)
						for _, made := range []string{"家里有事", "family matters"} {
							if !strings.Contains(own, made) {
								require.NotContains(t, got, made, "%s.%s: an example its definition does not give", d.ID, f.ID)
							}
						}
					}
					checked++
					got = text(b.say(t, "wuqiang", answerFor(f)))
				}
				b.say(t, "wuqiang", "/cancel")
			}
			require.GreaterOrEqual(t, checked, 15, "the questions of leave, expense, purchase and onboarding")
		})
	}
}

// Defect 1, every copy: after the add-signer and the transfer, every card
// 李雷 holds for the request names the transfer's target, none the signer.
func TestTransferEveryCopyNamesTheTarget(t *testing.T) {
	t.Parallel()
	b := setup(t)
	out := b.submit(t, "dev1", 4)
	task := pendingTask(t, out, "cto")
	b.click(t, "cto", taskButton("add_signer", task), map[string]string{"user": "hr1", "position": "before"})
	v := mustView(t, b, out)
	for _, x := range v.Tasks {
		if x.Assignee == "hr1" && x.Status == flows.TaskPending {
			b.click(t, "hr1", taskButton("approve", x), nil)
		}
	}
	v = mustView(t, b, out)
	var mine *flows.Task
	for _, x := range v.Tasks {
		if x.Assignee == "cto" && x.Status == flows.TaskPending {
			mine = x
		}
	}
	require.NotNil(t, mine)
	rep := b.click(t, "cto", taskButton("transfer", mine), map[string]string{"user": "王总", "comment": "出差"})
	require.Equal(t, "已转交给 王总", rep.Toast)

	// Every card update queued for the request, rendered for 李雷.
	cto := mustUser(t, b, "cto")
	seen := 0
	for _, m := range updatesOf(t, b, out.Instance.ID) {
		if m.TaskID == 0 {
			continue
		}
		msg, err := b.bot.Render(b.ctx, m, cto)
		require.NoError(t, err)
		all := cardText(msg.Card)
		if strings.Contains(all, "转交") {
			seen++
			require.Contains(t, all, "王总", "got %q", all)
			require.NotContains(t, all, "转交给 刘人事", "got %q", all)
		}
	}
	require.Positive(t, seen, "李雷's copies are updated with the transfer")
	status := text(b.say(t, "cto", "/status "+out.Instance.Number))
	require.NotContains(t, status, "转交给 刘人事", "got %q", status)
}

// Defect 17: the add-signer position is a choice of three on the card,
// and anything else typed is refused without a change.
func TestAddSignerPositionIsAChoice(t *testing.T) {
	t.Parallel()
	b := setup(t)
	out := b.submit(t, "dev1", 2)
	task := pendingTask(t, out, "cto")
	c := b.bot.TaskCard(mustView(t, b, out), task, mustUser(t, b, "cto"))
	var pos *bots.Input
	for i := range c.Inputs {
		if c.Inputs[i].Name == "position" {
			pos = &c.Inputs[i]
		}
	}
	require.NotNil(t, pos)
	require.Equal(t, bots.InputSelect, pos.Kind)
	var vals []string
	for _, o := range pos.Options {
		vals = append(vals, o.Value)
	}
	require.Equal(t, []string{"before", "after", "alongside"}, vals)

	rep := b.click(t, "cto", taskButton("add_signer", task), map[string]string{"user": "hr1", "position": "sideways"})
	require.Equal(t, bots.ToastWarning, rep.ToastKind, "got %q", rep.Toast)
	require.Len(t, mustView(t, b, out).Tasks, len(out.Tasks), "nothing added")
}
