package bots

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/flowbot/flowbot/flows"
	"github.com/flowbot/flowbot/flows/flowstats"
)

// statsWindow is the period /stats covers.
const statsWindow = 30 * 24 * time.Hour

// stats answers /stats: the last 30 days' requests by outcome and by flow,
// the median and p90 time to a decision, the rejection and overdue rates
// and the bottleneck step (flows/flowstats), for the viewer's departments
// and their sub-departments (all of them for admins and auditors).
func (b *Bot) stats(ctx context.Context, u *flows.User) (Reply, error) {
	loc := locale(u)
	depts, err := b.store.Departments(ctx)
	if err != nil {
		return b.fail(ctx, loc, err)
	}
	// The same rule as the REST API's (flows/rights.go).
	all, roots, err := flows.StatsScope(u, flows.HeadedDepts(u, depts))
	if err != nil {
		return textReply(false, T(loc, "stats_forbidden", nil)), nil
	}
	now := b.now()
	q := flowstats.Query{Since: now.Add(-statsWindow), Now: now}
	if !all {
		q.Depts = flowstats.ExpandDepts(depts, roots)
	}
	rep, err := flowstats.Compute(ctx, b.store, q)
	if err != nil {
		return b.fail(ctx, loc, fmt.Errorf("compute statistics: %w", err))
	}

	c := &Card{Title: T(loc, "stats_title", nil), Color: ColorBlue}
	scopeText := T(loc, "stats_all", nil)
	if !all {
		var names []string
		for _, d := range depts { // top-most departments of the scope only
			if slices.Contains(q.Depts, d.ID) && (d.Parent == "" || !slices.Contains(q.Depts, d.Parent)) {
				names = append(names, b.deptName(loc, d.ID))
			}
		}
		scopeText = joinList(loc, names)
	}
	tot := rep.Total
	c.Fields = append(c.Fields,
		Field{Label: T(loc, "stats_scope", nil), Value: truncate(scopeText, maxFieldText)},
		Field{Label: T(loc, "stats_total", nil), Value: strconv.Itoa(tot.Submitted)},
	)
	for _, x := range []struct {
		s flows.Status
		n int
	}{
		{flows.StatusPending, tot.Pending}, {flows.StatusApproved, tot.Approved}, {flows.StatusRejected, tot.Rejected},
		{flows.StatusWithdrawn, tot.Withdrawn}, {flows.StatusFailed, tot.Failed},
	} {
		if x.n > 0 {
			c.Fields = append(c.Fields, Field{Label: statusText(loc, x.s), Value: strconv.Itoa(x.n)})
		}
	}
	none := T(loc, "stats_none", nil)
	median, p90 := none, none
	if tot.Decision.N > 0 {
		median, p90 = duration(loc, tot.Decision.Median), duration(loc, tot.Decision.P90)
	}
	c.Fields = append(c.Fields,
		Field{Label: T(loc, "stats_median", nil), Value: median},
		Field{Label: T(loc, "stats_p90", nil), Value: p90},
	)
	if tot.Approved+tot.Rejected > 0 {
		c.Fields = append(c.Fields, Field{Label: T(loc, "stats_reject_rate", nil), Value: percent(tot.RejectionRate)})
	}
	if tot.Tasks > 0 {
		c.Fields = append(c.Fields, Field{Label: T(loc, "stats_overdue_rate", nil), Value: percent(tot.OverdueRate)})
	}
	if tot.Approved+tot.Rejected+tot.Withdrawn+tot.Failed > 0 { // per ended request
		c.Fields = append(c.Fields,
			Field{Label: T(loc, "stats_return_rate", nil), Value: percent(tot.ReturnRate)},
			Field{Label: T(loc, "stats_sendback_rate", nil), Value: percent(tot.SendBackRate)},
			Field{Label: T(loc, "stats_withdraw_rate", nil), Value: percent(tot.WithdrawalRate)})
	}
	if bn := rep.Bottleneck; bn != nil {
		flow, step := b.stepNames(ctx, loc, bn.FlowID, bn.StepID)
		c.Fields = append(c.Fields, Field{Label: T(loc, "stats_bottleneck", nil),
			Value: T(loc, "stats_bottleneck_value", map[string]any{"flow": flow, "step": step, "wait": duration(loc, bn.Decision.Median)})})
	}
	fs := slices.Clone(rep.Flows)
	slices.SortStableFunc(fs, func(a, b flowstats.FlowStats) int { return b.Submitted - a.Submitted })
	var lines []string
	for _, f := range fs {
		if f.Submitted == 0 {
			continue
		}
		if len(lines) == maxCardFields {
			break
		}
		name, _ := b.stepNames(ctx, loc, f.Key, "")
		line := "• " + name + ": " + strconv.Itoa(f.Submitted)
		if f.Decision.N > 0 {
			line += T(loc, "stats_flow_median", map[string]any{"wait": duration(loc, f.Decision.Median)})
		}
		if f.Approved+f.Rejected+f.Withdrawn+f.Failed > 0 {
			line += T(loc, "stats_flow_rates", map[string]any{"ret": percent(f.ReturnRate), "back": percent(f.SendBackRate), "wd": percent(f.WithdrawalRate)})
		}
		lines = append(lines, line)
	}
	if len(lines) > 0 {
		c.Markdown = joinNonEmpty("\n", append([]string{T(loc, "stats_by_flow", nil)}, lines...)...)
	}
	if steps := stepRates(rep.Steps); len(steps) > 0 {
		out := []string{T(loc, "stats_by_step", nil)}
		for _, s := range steps {
			flow, step := b.stepNames(ctx, loc, s.FlowID, s.StepID)
			out = append(out, T(loc, "stats_step_rates", map[string]any{"flow": flow, "step": step,
				"n": s.Approved + s.Rejected + s.Returned + s.SentBack, "ret": percent(s.ReturnRate), "back": percent(s.SendBackRate)}))
		}
		c.Markdown = joinNonEmpty("\n\n", c.Markdown, joinNonEmpty("\n", out...))
	}
	return Reply{Messages: []Message{{Card: c}}}, nil
}

// maxStepRates bounds the steps /stats lists by returns and send-backs.
const maxStepRates = 5

// stepRates returns the steps that returned requests to the applicant or
// sent them back to an earlier step, most such decisions first.
func stepRates(steps []flowstats.Stats) []flowstats.Stats {
	var out []flowstats.Stats
	for _, s := range steps {
		if s.Returned+s.SentBack > 0 {
			out = append(out, s)
		}
	}
	slices.SortStableFunc(out, func(a, b flowstats.Stats) int { return (b.Returned + b.SentBack) - (a.Returned + a.SentBack) })
	if len(out) > maxStepRates {
		out = out[:maxStepRates]
	}
	return out
}

// stepNames returns the names of a flow and one of its steps in loc (the
// ids when the flow is gone).
func (b *Bot) stepNames(ctx context.Context, loc, flowID, stepID string) (flow, step string) {
	flow, step = flowID, stepID
	if d, err := b.eng.Definition(ctx, flowID, 0); err == nil {
		flow = d.Name.In(loc)
		if s, _ := d.Step(stepID); s != nil {
			step = s.Name.In(loc)
		}
	}
	return flow, step
}

func percent(x float64) string { return strconv.Itoa(int(x*100+0.5)) + "%" }

func joinList(loc string, xs []string) string {
	sep := ", "
	if isZH(loc) {
		sep = "、"
	}
	out := ""
	for i, x := range xs {
		if i > 0 {
			out += sep
		}
		out += x
	}
	return out
}
