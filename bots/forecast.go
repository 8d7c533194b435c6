package bots

import (
	"context"
	"fmt"
	"time"

	"github.com/flowbot/flowbot/flows"
	"github.com/flowbot/flowbot/flows/flowdef"
	"github.com/flowbot/flowbot/flows/flowstats"
)

// maxForecastLines bounds the per-step lines of a forecast on a card.
const maxForecastLines = 4

// forecast predicts when open request v finishes, from the history the
// aggregate (Config.Stats) folds, brought up to date first. nil: no
// aggregate, it is still warming up after a start, the request is closed, or a step ahead has no history yet.
func (b *Bot) forecast(ctx context.Context, v *flows.View) *flowstats.Forecast {
	agg := b.cfg.Stats
	if agg == nil || v == nil || v.Def == nil || v.Instance.Status != flows.StatusPending {
		return nil
	}
	if agg.Warming() {
		return nil // rebuilding after a start: no forecast rather than a card that waits seconds
	}
	if _, err := agg.Update(ctx, b.store); err != nil {
		b.log.WarnContext(ctx, "update statistics for a forecast", "instance", v.Instance.ID, "err", err)
		return nil
	}
	if v.Route == nil {
		v = b.withRoute(ctx, v)
	}
	now := b.now()
	var plan []flowstats.PlannedStep
	for _, rs := range v.Route {
		s, _ := v.Def.Step(rs.StepID)
		if s == nil || (s.Kind != flowdef.StepApprove && s.Kind != "") {
			continue
		}
		dl := v.Def.DeadlineOf(s)
		after := firstDeadline(dl)
		p := flowstats.PlannedStep{StepID: rs.StepID, DeadlineAfter: after, DeadlineWall: v.Def.Calendar != flowdef.CalendarWorking}
		switch rs.Status {
		case "current":
			var t *flows.Task // the pending task waiting longest
			for _, x := range v.Tasks {
				if x.StepID == rs.StepID && x.Status == flows.TaskPending && (t == nil || started(x).Before(started(t))) {
					t = x
				}
			}
			if t == nil {
				continue // queued only: counted as upcoming would double it
			}
			p.Approver, p.Started, p.DeadlineAfter = t.Assignee, started(t), 0
			for _, d := range []*time.Time{t.RemindAt, t.EscalateAt, t.TimeoutAt} {
				if d != nil && (p.Deadline.IsZero() || d.Before(p.Deadline)) {
					p.Deadline = *d
				}
			}
			if t.Reminders > 0 || t.Escalated {
				p.Deadline = time.Time{} // already overdue: nothing to predict
			}
		case "upcoming":
			if len(rs.Approvers) == 1 {
				p.Approver = rs.Approvers[0]
			}
		default:
			continue
		}
		plan = append(plan, p)
	}
	if len(plan) == 0 {
		return nil
	}
	f, err := agg.Predict(v.Instance.FlowID, plan, now)
	if err != nil {
		return nil // no history for a step ahead: no forecast rather than a guess
	}
	return f
}

func started(t *flows.Task) time.Time {
	if t.StartedAt != nil {
		return *t.StartedAt
	}
	return t.CreatedAt
}

// firstDeadline is the earliest deadline of a policy (0: none).
func firstDeadline(d flowdef.Deadline) time.Duration {
	var out time.Duration
	for _, x := range []time.Duration{d.RemindAfter, d.EscalateAfter, d.TimeoutAfter} {
		if x > 0 && (out == 0 || x < out) {
			out = x
		}
	}
	return out
}

// addForecast puts the forecast of v on card c: the expected finish with
// its range, and one line per step ahead (approver, expected end, and a
// warning when the step is predicted to miss its deadline).
func (b *Bot) addForecast(loc string, tz *time.Location, v *flows.View, f *flowstats.Forecast, c *Card) {
	if f == nil {
		return
	}
	c.Fields = append(c.Fields, Field{Label: T(loc, "f_forecast", nil),
		Value: T(loc, "forecast_value", map[string]any{"p50": b.fmtTime(tz, &f.Finish50), "p90": b.fmtTime(tz, &f.Finish90)})})
	lines := []string{T(loc, "forecast_steps", nil)}
	for i, s := range f.Steps {
		if i == maxForecastLines {
			break
		}
		step := s.StepID
		if st, _ := v.Def.Step(s.StepID); st != nil {
			step = st.Name.In(loc)
		}
		who := ""
		if s.Approver != "" {
			who = b.name(loc, s.Approver)
		}
		args := map[string]any{"step": step, "who": who, "p50": b.fmtTime(tz, &s.End50), "p90": b.fmtTime(tz, &s.End90), "deadline": b.fmtTime(tz, &s.Deadline)}
		key := "forecast_step"
		if who != "" {
			key = "forecast_step_who"
		}
		line := T(loc, key, args)
		if s.Breach {
			line += " " + T(loc, "forecast_breach", args)
		}
		lines = append(lines, line)
	}
	c.Markdown = joinNonEmpty("\n", c.Markdown, joinNonEmpty("\n", lines...))
}

// breachNote is the warning on an approver's task card when the task's
// step is predicted to miss its deadline ("" otherwise).
func (b *Bot) breachNote(loc string, tz *time.Location, f *flowstats.Forecast, t *flows.Task) string {
	if f == nil || t == nil || len(f.Steps) == 0 {
		return ""
	}
	s := f.Steps[0]
	if s.StepID != t.StepID || !s.Breach {
		return ""
	}
	return T(loc, "forecast_task_breach", map[string]any{"p50": b.fmtTime(tz, &s.End50), "deadline": b.fmtTime(tz, &s.Deadline)})
}

// ForecastOf is the forecast of request id as its cards show it, for the
// scheduler's deadline check: the request and its forecast, or a nil
// forecast when there is none (closed, no history, still warming up).
func (b *Bot) ForecastOf(ctx context.Context, id int64) (*flows.Instance, *flowstats.Forecast, error) {
	v, err := b.eng.View(ctx, id)
	if err != nil {
		return nil, nil, fmt.Errorf("load request %d for a forecast: %w", id, err)
	}
	return v.Instance, b.forecast(ctx, v), nil
}
