package schedule_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/bots/schedule"
	"github.com/flowbot/flowbot/flows"
	"github.com/flowbot/flowbot/flows/flowdef"
	"github.com/flowbot/flowbot/flows/flowstats"
	"github.com/flowbot/flowbot/flows/workcal"
)

const ownedLeave = `
id: leave
name: {zh: 请假, en: Leave}
owner: hr1
satisfaction: true
steps:
  - id: mgr
    name: {zh: 上级审批, en: Manager}
    approvers: [{manager: 1}]
  - id: hr
    name: {zh: 人事审批, en: HR review}
    approvers: [{role: hr}]
`

const unowned = `
id: expense
name: {zh: 报销, en: Expense}
steps:
  - id: boss
    approvers: [{manager: 1}]
`

// plantedMonths folds a known history into an aggregate: in October 10
// leave requests (mgr 1h, hr 3h, all approved, rated 3); in November 20
// (mgr 1h, hr 6h; every tenth rejected by hr; rated 4), each filed at
// 10:00 Shanghai on a weekday. Event ids start high, above the store's.
func plantedMonths() *flowstats.Aggregate {
	a := flowstats.NewAggregate(workcal.Default())
	a.SetDirectory([]*flows.User{{ID: "dev1", Dept: "eng"}, {ID: "dev2", Dept: "eng"}})
	data := func(m map[string]any) json.RawMessage { b, _ := json.Marshal(m); return b }
	var evs []*flows.Event
	id, task := int64(0), int64(0)
	add := func(day time.Time, n int, hrWait time.Duration, rejectEvery, score int) {
		for i := range n {
			for day.Weekday() == time.Saturday || day.Weekday() == time.Sunday {
				day = day.AddDate(0, 0, 1)
			}
			id++
			at := day
			evs = append(evs, &flows.Event{InstanceID: id, FlowID: "leave", Type: flows.EvSubmitted, Actor: "dev1", Data: data(map[string]any{"version": 1}), At: at})
			status := "approved"
			for _, s := range []struct {
				step, who string
				wait      time.Duration
			}{{"mgr", "cto", time.Hour}, {"hr", "hr1", hrWait}} {
				task++
				evs = append(evs, &flows.Event{InstanceID: id, FlowID: "leave", StepID: s.step, TaskID: task, Type: flows.EvTaskCreated, Data: data(map[string]any{"assignee": s.who, "status": "pending"}), At: at})
				at = at.Add(s.wait)
				typ := flows.EvApproved
				if s.step == "hr" && rejectEvery > 0 && i%rejectEvery == rejectEvery-1 {
					typ, status = flows.EvRejected, "rejected"
				}
				evs = append(evs, &flows.Event{InstanceID: id, FlowID: "leave", StepID: s.step, TaskID: task, Type: typ, Actor: s.who, At: at})
			}
			evs = append(evs, &flows.Event{InstanceID: id, FlowID: "leave", Type: flows.EvCompleted, Data: data(map[string]any{"status": status}), At: at})
			evs = append(evs, &flows.Event{InstanceID: id, FlowID: "leave", Type: flows.EvRated, Actor: "dev1", Data: data(map[string]any{"score": score}), At: at})
			day = day.AddDate(0, 0, 1)
		}
	}
	add(time.Date(2026, 10, 5, 10, 0, 0, 0, shanghai), 10, 3*time.Hour, 0, 3)
	add(time.Date(2026, 11, 2, 10, 0, 0, 0, shanghai), 20, 6*time.Hour, 10, 4)
	for i, e := range evs {
		e.ID = 1_000_000 + int64(i)
	}
	a.Apply(evs...)
	return a
}

func ownedFlows(t *testing.T) func(context.Context) ([]*flowdef.Definition, error) {
	t.Helper()
	var defs []*flowdef.Definition
	for _, src := range []string{ownedLeave, unowned} {
		d, err := flowdef.Parse("f.yaml", []byte(src))
		require.NoError(t, err)
		defs = append(defs, d)
	}
	return func(context.Context) ([]*flowdef.Definition, error) { return defs, nil }
}

// TestOwnerReport: on the first of December at 09:00 the owner of the
// leave flow gets November's health, compared with October's: the figures
// planted, the bottleneck in words, a link to the flow on the dashboard;
// once per month however often the job runs.
func TestOwnerReport(t *testing.T) {
	t.Parallel()
	b := setup(t)
	dec1 := time.Date(2026, 12, 1, 9, 0, 0, 0, shanghai)
	b.clock.Set(dec1)
	s := b.scheduler(schedule.Config{Stats: plantedMonths(), Flows: ownedFlows(t), DashboardURL: "http://127.0.0.1:8080/ui/dashboard/"})
	require.NoError(t, s.RunDue(b.ctx, dec1))
	texts := b.texts(t)
	require.Len(t, texts["hr1"], 1, "hr1 owns leave")
	en, zh := texts["hr1"][0].EN, texts["hr1"][0].ZH
	for _, want := range []string{
		"**Process health report · 2026-11**\n",
		"\n**Leave**\n",
		"- Volume: 20 (+100% on last month)\n",
		"- Median time to decision: 7h (7h working time) (+75% on last month)\n",
		"- Failure rate (rejected or failed): 10% (+10 pt on last month)\n",
		"- Satisfaction: 4.0 / 5 (20 ratings) (+1.0 on last month)\n",
		"- Bottleneck: Leave: 86% of waiting time is in HR review (100% of it with hr1)",
		"- Details: http://127.0.0.1:8080/ui/dashboard/?flow=leave&weeks=5\n",
		"- Requests per week (two months): ▁██▁▁████▁\n",
	} {
		require.Contains(t, en, want)
	}
	require.Contains(t, zh, "**流程健康月报 · 2026-11**")
	require.Contains(t, zh, "- 申请量：20（较上月 +100%）")
	require.Contains(t, zh, "- 失败率（驳回或出错）：10%（较上月 +10 个百分点）")
	require.NotContains(t, en, "Expense", "a flow without owner goes to nobody")

	require.NoError(t, s.RunDue(b.ctx, dec1.Add(10*time.Minute)))
	again := schedule.New(schedule.Config{Store: b.db, Deduper: b.db.Deduper(), Locker: b.db.Locker(), Ticker: b.ticker, Clock: b.clock.Now,
		Stats: plantedMonths(), Flows: ownedFlows(t)})
	require.NoError(t, again.RunDue(b.ctx, dec1.Add(20*time.Minute)))
	require.Len(t, b.texts(t)["hr1"], 1, "once per month, across runs and replicas")
}

// TestOwnerReportWithoutStats: without an aggregate or flows nothing is
// sent to owners and nothing fails.
func TestOwnerReportWithoutStats(t *testing.T) {
	t.Parallel()
	b := setup(t)
	dec1 := time.Date(2026, 12, 1, 9, 0, 0, 0, shanghai)
	s := b.scheduler(schedule.Config{Flows: ownedFlows(t)})
	require.NoError(t, s.RunDue(b.ctx, dec1))
	require.NotContains(t, b.texts(t), "hr1")
}

func TestOwnerReportText(t *testing.T) {
	t.Parallel()
	month := time.Date(2026, 11, 1, 0, 0, 0, 0, shanghai)
	got := schedule.OwnerReportText(month, []schedule.FlowHealth{{FlowID: "x", Name: flowdef.Text{ZH: "采购", EN: "Purchase"}}})
	require.Contains(t, got.EN, "- Volume: 0\n", "nothing last month: no change told")
	require.Contains(t, got.EN, "- No requests this month.\n")
	require.NotContains(t, got.EN, "Satisfaction")
	require.NotContains(t, got.EN, "Details")
	require.Contains(t, got.ZH, "- 本月没有申请。")
	require.NotContains(t, got.EN, "per week", "no chart of nothing")
	got = schedule.OwnerReportText(month, []schedule.FlowHealth{{FlowID: "x", Name: flowdef.Text{EN: "Purchase"}, Weekly: []int{0, 1, 7, 14, 0}}})
	require.Contains(t, got.EN, "- Requests per week (two months): ▁▁▄█▁\n")
}
