package schedule

import (
	"context"
	"fmt"
	"time"

	"github.com/flowbot/flowbot/flows"
	"github.com/flowbot/flowbot/flows/flowdef"
	"github.com/flowbot/flowbot/flows/flowstats"
)

// JobBreach re-predicts the running tasks and warns of the ones now
// predicted to miss their deadline.
const JobBreach = "breach"

// maxBreachTasks bounds the pending tasks one run looks at.
const maxBreachTasks = 5000

// runBreaches re-predicts every request with a pending task (Config.Forecast)
// and, for each pending task whose step is now predicted to end after its
// deadline while that deadline is still ahead, tells the approver and the
// flow's owner once (the key names the task and is numbered in the
// outbox's transaction, so no run and no replica tells twice). A task
// already reminded or escalated is overdue, not predicted: the reminders
// speak for it.
func (s *Scheduler) runBreaches(ctx context.Context, now time.Time) error {
	if s.cfg.Forecast == nil {
		return nil
	}
	_, err := s.locked(ctx, JobBreach, func(ctx context.Context) error {
		tasks, err := s.cfg.Store.Tasks(ctx, flows.TaskFilter{Status: []flows.TaskStatus{flows.TaskPending}, Limit: maxBreachTasks})
		if err != nil {
			return fmt.Errorf("load pending tasks: %w", err)
		}
		owners := map[string]string{} // flow -> owner
		if s.cfg.Flows != nil {
			defs, err := s.cfg.Flows(ctx)
			if err != nil {
				return fmt.Errorf("load flows: %w", err)
			}
			for _, d := range defs {
				owners[d.ID] = d.Owner
			}
		}
		byInstance := map[int64][]*flows.Task{}
		var order []int64
		for _, t := range tasks {
			if t.Reminders > 0 || t.Escalated {
				continue
			}
			if byInstance[t.InstanceID] == nil {
				order = append(order, t.InstanceID)
			}
			byInstance[t.InstanceID] = append(byInstance[t.InstanceID], t)
		}
		sent := 0
		for _, id := range order {
			if err := ctx.Err(); err != nil {
				return err
			}
			in, f, err := s.cfg.Forecast(ctx, id)
			if err != nil {
				s.log.WarnContext(ctx, "forecast for the deadline check", "instance", id, "err", err)
				continue
			}
			if in == nil || f == nil {
				continue // closed meanwhile, or no history to predict from
			}
			for _, sf := range f.Steps {
				if !sf.Breach || sf.Deadline.IsZero() || !sf.Deadline.After(now) {
					continue
				}
				for _, t := range byInstance[id] {
					if t.StepID != sf.StepID || t.Assignee != sf.Approver {
						continue
					}
					note := s.breachText(ctx, in, sf)
					to := []string{t.Assignee}
					if o := owners[in.FlowID]; o != "" && o != t.Assignee {
						to = append(to, o)
					}
					for _, u := range to {
						ok, err := s.enqueue(ctx, fmt.Sprintf("breach:%d:%s", t.ID, u), u, s.breachFor(ctx, u, t.Assignee, note), now)
						if err != nil {
							return err
						}
						if ok {
							sent++
						}
					}
				}
			}
		}
		if sent > 0 {
			s.log.InfoContext(ctx, "predicted deadline breaches told", "messages", sent)
			s.kick()
		}
		return nil
	})
	return err
}

// breachNote is a predicted breach in both languages, with the times in
// the zone of whoever reads it filled in by breachFor.
type breachNote struct {
	number string
	step   flowdef.Text
	end50  time.Time
	end90  time.Time
	due    time.Time
}

func (s *Scheduler) breachText(ctx context.Context, in *flows.Instance, sf flowstats.StepForecast) breachNote {
	return breachNote{number: in.Number, step: s.stepName(ctx, in.FlowID, sf.StepID), end50: sf.End50, end90: sf.End90, due: sf.Deadline}
}

// breachFor renders n for recipient to; approver is who has the task.
func (s *Scheduler) breachFor(ctx context.Context, to, approver string, n breachNote) flowdef.Text {
	loc := s.zone(&flows.User{})
	if u, err := s.cfg.Store.User(ctx, to); err == nil && u != nil {
		loc = s.zone(u)
	}
	f := func(t time.Time) string { return t.In(loc).Format("01-02 15:04") }
	return BreachText(n.number, n.step, approver, to == approver, f(n.end50), f(n.end90), f(n.due))
}

// BreachText is the warning that a running step is predicted to miss its
// deadline: to its approver (mine) or to the flow's owner.
func BreachText(number string, step flowdef.Text, approver string, mine bool, end50, end90, due string) flowdef.Text {
	if mine {
		return flowdef.Text{
			ZH: fmt.Sprintf("⏰ 申请 %s 的「%s」按以往的用时预计 %s 完成（最晚 %s），晚于期限 %s。请尽快处理。", number, step.In("zh"), end50, end90, due),
			EN: fmt.Sprintf("⏰ %s: from past waits, \"%s\" is predicted to be done %s (at the latest %s), after its deadline %s. Please decide soon.", number, step.In("en"), end50, end90, due),
		}
	}
	return flowdef.Text{
		ZH: fmt.Sprintf("⏰ 申请 %s 的「%s」（%s 处理中）按以往的用时预计 %s 完成（最晚 %s），晚于期限 %s。", number, step.In("zh"), approver, end50, end90, due),
		EN: fmt.Sprintf("⏰ %s: \"%s\" (with %s) is predicted to be done %s (at the latest %s), after its deadline %s.", number, step.In("en"), approver, end50, end90, due),
	}
}
