package flowstats

import (
	"fmt"
	"strings"
	"time"
)

// Bottleneck names where a flow's requests wait: the step (and its
// approver) holding the most working time, and the department whose
// requests wait longest for a decision.
type Bottleneck struct {
	FlowID   string
	StepID   string
	Approver string // the approver holding most of the step's waiting
	// Share is the step's part of the flow's waiting time; ApproverShare
	// the approver's part of the step's.
	Share, ApproverShare float64
	// Median is the step's median wait in working time; WorkDay the length
	// of a working day it is told in.
	Median, WorkDay time.Duration
	// FridayPM is the part of the step's waits that began on a Friday
	// afternoon; OverdueRate the part that needed a reminder, escalation
	// or timeout.
	FridayPM, OverdueRate float64
	// Dept is the department whose requests wait longest (median time to
	// a decision, DeptMedian, working time); "" with one department only,
	// or when the longest waits are tied.
	Dept       string
	DeptMedian time.Duration
}

// Bottleneck returns the bottleneck of flowID among the cells f selects
// (f.FlowID is set to flowID), or nil when nothing waited there.
func (a *Aggregate) Bottleneck(f Filter, flowID string) *Bottleneck {
	f.FlowID = flowID
	s := a.Summary(f)
	ff := s.Flow(flowID)
	if ff == nil || len(ff.Steps) == 0 || ff.Waiting == 0 {
		return nil
	}
	st := ff.Steps[0]
	b := &Bottleneck{FlowID: flowID, StepID: st.StepID, Share: st.Share, Median: st.WaitWork.Median, WorkDay: a.WorkDay()}
	if n := st.Tasks - st.Transferred; n > 0 {
		b.FridayPM = float64(st.FridayPM) / float64(n)
	}
	b.OverdueRate = st.OverdueRate
	f.StepID = st.StepID
	if ap := a.Summary(f).Approvers; len(ap) > 0 && st.Waiting > 0 {
		b.Approver, b.ApproverShare = ap[0].Approver, float64(ap[0].Waiting)/float64(st.Waiting)
	}
	if len(s.Depts) > 1 && s.Depts[0].DecisionWork.Median > s.Depts[1].DecisionWork.Median {
		b.Dept, b.DeptMedian = s.Depts[0].Dept, s.Depts[0].DecisionWork.Median
	}
	return b
}

// Names gives display names of flows, steps, users and departments for
// texts; a missing name shows the id.
type Names struct {
	Flows, Steps, Users, Depts map[string]string // Steps keyed "flow/step"
}

func name(m map[string]string, id string) string {
	if n := m[id]; n != "" {
		return n
	}
	return id
}

// workDays tells d in working days of length day, one decimal.
func workDays(d, day time.Duration) string {
	if day <= 0 {
		day = 24 * time.Hour
	}
	return fmt.Sprintf("%.1f", float64(d)/float64(day))
}

func pct(x float64) string { return fmt.Sprintf("%.0f%%", 100*x) }

// Text says the bottleneck in plain words, in Chinese (locale "zh...") or
// English, with one suggestion.
func (b *Bottleneck) Text(locale string, n Names) string {
	zh := strings.HasPrefix(locale, "zh")
	flow, step := name(n.Flows, b.FlowID), name(n.Steps, b.FlowID+"/"+b.StepID)
	who := name(n.Users, b.Approver)
	var sb strings.Builder
	if zh {
		fmt.Fprintf(&sb, "%s：%s 的等待时间在「%s」", flow, pct(b.Share), step)
		if b.Approver != "" {
			fmt.Fprintf(&sb, "（其中 %s 在 %s 处）", pct(b.ApproverShare), who)
		}
		fmt.Fprintf(&sb, "；中位数 %s 个工作日", workDays(b.Median, b.WorkDay))
		if b.FridayPM >= 0.2 {
			fmt.Fprintf(&sb, "；其中 %s 的等待始于周五下午", pct(b.FridayPM))
		}
		sb.WriteString("。")
		if b.Dept != "" {
			fmt.Fprintf(&sb, "等得最久的是 %s 部门的申请（中位数 %s 个工作日）。", name(n.Depts, b.Dept), workDays(b.DeptMedian, b.WorkDay))
		}
	} else {
		fmt.Fprintf(&sb, "%s: %s of waiting time is in %s", flow, pct(b.Share), step)
		if b.Approver != "" {
			fmt.Fprintf(&sb, " (%s of it with %s)", pct(b.ApproverShare), who)
		}
		fmt.Fprintf(&sb, "; median %s working days", workDays(b.Median, b.WorkDay))
		if b.FridayPM >= 0.2 {
			fmt.Fprintf(&sb, "; %s of those waits start on Friday afternoon", pct(b.FridayPM))
		}
		sb.WriteString(".")
		if b.Dept != "" {
			fmt.Fprintf(&sb, " Requests from %s wait longest (median %s working days).", name(n.Depts, b.Dept), workDays(b.DeptMedian, b.WorkDay))
		}
	}
	sb.WriteString(" ")
	sb.WriteString(b.suggestion(zh, step, who))
	return sb.String()
}

// suggestion picks one thing to try, from the figures.
func (b *Bottleneck) suggestion(zh bool, step, who string) string {
	switch {
	case b.FridayPM >= 0.3:
		if zh {
			return fmt.Sprintf("建议：请 %s 在周五中午前处理「%s」的待办，或为周末设置代理人。", who, step)
		}
		return fmt.Sprintf("Suggestion: ask %s to clear %s before Friday noon, or name a deputy for the weekend.", who, step)
	case b.Approver != "" && b.ApproverShare >= 0.8 && b.Median >= b.WorkDay:
		if zh {
			return fmt.Sprintf("建议：「%s」几乎都等 %s 一人，可增加一位审批人（或签）或设置代理人。", step, who)
		}
		return fmt.Sprintf("Suggestion: %s waits almost only for %s; add a second approver (mode any) or a deputy.", step, who)
	case b.OverdueRate >= 0.3:
		if zh {
			return fmt.Sprintf("建议：%s 的「%s」待办超期，请设置更早的提醒或升级。", pct(b.OverdueRate), step)
		}
		return fmt.Sprintf("Suggestion: %s of %s tasks run overdue; set an earlier reminder or escalation.", pct(b.OverdueRate), step)
	default:
		if zh {
			return fmt.Sprintf("建议：先看看「%s」为何需要这么久。", step)
		}
		return fmt.Sprintf("Suggestion: look first at why %s takes this long.", step)
	}
}
