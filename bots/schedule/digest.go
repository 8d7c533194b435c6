package schedule

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/flowbot/flowbot/flows"
	"github.com/flowbot/flowbot/flows/flowdef"
	"github.com/flowbot/flowbot/flows/flowstats"
)

// statsWindow is the period the digest's median and slowest step cover.
const statsWindow = 30 * 24 * time.Hour

// recipientJob is a job sent to some users at a local time each.
type recipientJob struct {
	name string
	spec string
	// who returns the recipients among users.
	who func(users []*flows.User, depts []*flows.Department) []*flows.User
	// key returns the dedupe key of u's message due at local time at.
	key func(u *flows.User, at time.Time) string
	// since is how far back the statistics must reach.
	since time.Duration
	// text builds u's message due at local time at; ok false: nothing worth sending.
	text func(ctx context.Context, in *input, u *flows.User, at time.Time) (flowdef.Text, bool)
	// prepare, when set, runs once under the job's lock before who.
	prepare func(ctx context.Context) error
	// extra, when set, adds to u's message data what text prepared
	// beside the text (the owner report's image).
	extra func(u *flows.User) map[string]any
}

// input is what texts are built from, loaded once per run.
type input struct {
	now   time.Time
	rows  *flowstats.Rows
	users map[string]*flows.User
	depts []*flows.Department
	inst  map[int64]*flows.Instance
}

func (s *Scheduler) runDigests(ctx context.Context, now time.Time) error {
	return s.runRecipients(ctx, now, recipientJob{
		name:  JobDigest,
		spec:  s.cfg.DigestSpec,
		who:   managers,
		key:   func(u *flows.User, at time.Time) string { return "digest:" + u.ID + ":" + at.Format(time.DateOnly) },
		since: statsWindow + 48*time.Hour,
		text:  s.digest,
	})
}

func (s *Scheduler) runReports(ctx context.Context, now time.Time) error {
	return s.runRecipients(ctx, now, recipientJob{
		name: JobReport,
		spec: s.cfg.ReportSpec,
		who: func(users []*flows.User, _ []*flows.Department) []*flows.User {
			var out []*flows.User
			for _, u := range users {
				if u.HasRole("admin") {
					out = append(out, u)
				}
			}
			return out
		},
		key:   func(u *flows.User, at time.Time) string { return "report:" + u.ID + ":" + at.Format(time.DateOnly) },
		since: 64 * 24 * time.Hour,
		text:  s.report,
	})
}

// managers returns the users who head a department or manage someone.
func managers(users []*flows.User, depts []*flows.Department) []*flows.User {
	is := map[string]bool{}
	for _, d := range depts {
		is[d.Head] = true
	}
	for _, u := range users {
		is[u.Manager] = true
	}
	var out []*flows.User
	for _, u := range users {
		if is[u.ID] {
			out = append(out, u)
		}
	}
	return out
}

// runRecipients sends job's message to each recipient whose local time of
// job.spec lies within CatchUp before now, once per recipient and time.
func (s *Scheduler) runRecipients(ctx context.Context, now time.Time, job recipientJob) error {
	var sent int
	_, err := s.locked(ctx, job.name, func(ctx context.Context) error {
		users, err := s.cfg.Store.Users(ctx)
		if err != nil {
			return fmt.Errorf("%s: load users: %w", job.name, err)
		}
		depts, err := s.cfg.Store.Departments(ctx)
		if err != nil {
			return fmt.Errorf("%s: load departments: %w", job.name, err)
		}
		if job.prepare != nil {
			if err := job.prepare(ctx); err != nil {
				return fmt.Errorf("%s: %w", job.name, err)
			}
		}
		from := s.lastRun(ctx, job.name)
		if from.IsZero() || !from.Before(now) {
			from = now.Add(-s.cfg.CatchUp)
		}
		var in *input
		var errs []error
		for _, u := range job.who(users, depts) {
			at, ok := s.lastDue(job.spec, s.zone(u), from, now)
			if !ok {
				continue
			}
			key := job.key(u, at)
			if s.wasSeen(key) {
				continue
			}
			if in == nil {
				if in, err = s.load(ctx, now, job.since, users, depts); err != nil {
					return fmt.Errorf("%s: %w", job.name, err)
				}
			}
			text, worth := job.text(ctx, in, u, at)
			first, err := s.claim(ctx, key)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			if !first || !worth {
				continue
			}
			var extra map[string]any
			if job.extra != nil {
				extra = job.extra(u)
			}
			fresh, err := s.enqueue(ctx, key, u.ID, text, now, extra)
			if err != nil {
				s.forget(ctx, key)
				errs = append(errs, fmt.Errorf("%s for %s: %w", job.name, u.ID, err))
				continue
			}
			if !fresh {
				s.log.InfoContext(ctx, "already sent (the dedupe store lost its key)", "job", job.name, "to", u.ID, "key", key)
				continue
			}
			sent++
			s.log.InfoContext(ctx, "sent", "job", job.name, "to", u.ID, "for", at.Format(time.RFC3339))
		}
		if len(errs) > 0 {
			return errors.Join(errs...) // the next run retries from the same point
		}
		return s.setLastRun(ctx, job.name, now)
	})
	if sent > 0 {
		s.kick()
	}
	return err
}

func (s *Scheduler) load(ctx context.Context, now time.Time, back time.Duration, users []*flows.User, depts []*flows.Department) (*input, error) {
	rows, err := flowstats.Load(ctx, s.cfg.Store, flowstats.Query{Since: now.Add(-back)})
	if err != nil {
		return nil, err
	}
	rows.Users = users
	in := &input{now: now, rows: rows, users: map[string]*flows.User{}, depts: depts, inst: map[int64]*flows.Instance{}}
	for _, u := range users {
		in.users[u.ID] = u
	}
	for _, x := range rows.Instances {
		in.inst[x.ID] = x
	}
	return in, nil
}

// DigestFacts is what a manager's digest says.
type DigestFacts struct {
	Date           time.Time // the local day of the digest
	Waiting        int       // open tasks assigned to the manager
	OldestWait     time.Duration
	OldestNumber   string // the request of the oldest of them
	OverdueOpen    int    // open overdue tasks of requests in the manager's scope
	Submitted      int    // yesterday, in scope
	Approved       int
	Rejected       int
	Median         time.Duration // time to decision, last 30 days, in scope
	MedianN        int
	SlowFlow       string // flow and step with the largest median wait, last 30 days
	SlowStep       flowdef.Text
	SlowStepWait   time.Duration
	HasSlowestStep bool
	// Focus is the one thing to look at today; HasFocus false: nothing
	// stands out.
	Focus        Focus
	HasFocus     bool
	DashboardURL string // linked at the end when set
}

// Empty reports whether there is nothing to tell.
func (f DigestFacts) Empty() bool {
	return f.Waiting == 0 && f.OverdueOpen == 0 && f.Submitted == 0 && f.Approved == 0 && f.Rejected == 0
}

// scope returns the departments (with sub-departments) u heads and u's
// direct reports.
func scope(in *input, u *flows.User) (depts, reports []string) {
	var heads []string
	for _, d := range in.depts {
		if d.Head == u.ID {
			heads = append(heads, d.ID)
		}
	}
	if len(heads) > 0 {
		depts = flowstats.ExpandDepts(in.depts, heads)
	}
	for _, x := range in.rows.Users {
		if x.Manager == u.ID {
			reports = append(reports, x.ID)
		}
	}
	return depts, reports
}

func (s *Scheduler) facts(ctx context.Context, in *input, u *flows.User, at time.Time) DigestFacts {
	loc := at.Location()
	day := time.Date(at.Year(), at.Month(), at.Day(), 0, 0, 0, 0, loc)
	f := DigestFacts{Date: day, DashboardURL: s.cfg.DashboardURL}
	for _, t := range in.rows.Tasks {
		if t.Assignee != u.ID || t.Status != flows.TaskPending {
			continue
		}
		f.Waiting++
		since := t.CreatedAt
		if t.StartedAt != nil {
			since = *t.StartedAt
		}
		if w := in.now.Sub(since); w > f.OldestWait || f.Waiting == 1 {
			f.OldestWait = w
			if x := in.inst[t.InstanceID]; x != nil {
				f.OldestNumber = x.Number
			}
		}
	}
	depts, reports := scope(in, u)
	name := func(flow, step string) flowdef.Text { return s.stepName(ctx, flow, step) }
	if len(depts) == 0 && len(reports) == 0 {
		f.Focus, f.HasFocus = focus(in, u, nil, nil, nil, name)
		return f
	}
	y := flowstats.Build(in.rows, flowstats.Query{Since: day.AddDate(0, 0, -1), Until: day, Depts: depts, Applicants: reports, Now: in.now})
	f.OverdueOpen = y.Total.OverdueOpen
	f.Submitted, f.Approved, f.Rejected = y.Total.Submitted, y.Total.Approved, y.Total.Rejected
	m := flowstats.Build(in.rows, flowstats.Query{Since: in.now.Add(-statsWindow), Until: in.now, Depts: depts, Applicants: reports, Now: in.now})
	f.Median, f.MedianN = m.Total.Decision.Median, m.Total.Decision.N
	if b := m.Bottleneck; b != nil {
		f.HasSlowestStep = true
		f.SlowFlow, f.SlowStepWait = b.FlowID, b.Decision.Median
		f.SlowStep = s.stepName(ctx, b.FlowID, b.StepID)
	}
	f.Focus, f.HasFocus = focus(in, u, depts, reports, m.Bottleneck, name)
	return f
}

func (s *Scheduler) stepName(ctx context.Context, flowID, stepID string) flowdef.Text {
	if s.cfg.StepName != nil {
		if t, ok := s.cfg.StepName(ctx, flowID, stepID); ok {
			return t
		}
	}
	return flowdef.Text{ZH: flowID + " / " + stepID, EN: flowID + " / " + stepID}
}

func (s *Scheduler) digest(ctx context.Context, in *input, u *flows.User, at time.Time) (flowdef.Text, bool) {
	f := s.facts(ctx, in, u, at)
	return DigestText(f), !f.Empty()
}

// DigestText renders the digest in Chinese and English (markdown).
func DigestText(f DigestFacts) flowdef.Text {
	date := f.Date.Format(time.DateOnly)
	zh := fmt.Sprintf("**每日审批摘要 · %s**\n", date)
	en := fmt.Sprintf("**Daily approval digest · %s**\n", date)
	if f.HasFocus {
		t := f.Focus.Text()
		zh += "**今天先看这一件：** " + t.ZH + "\n"
		en += "**The one thing to look at today:** " + t.EN + "\n"
	}
	if f.Waiting > 0 {
		zh += fmt.Sprintf("- 待我审批：%d 条，最早的 %s 已等待 %s\n", f.Waiting, f.OldestNumber, Duration("zh", f.OldestWait))
		en += fmt.Sprintf("- Waiting for you: %d, the oldest (%s) for %s\n", f.Waiting, f.OldestNumber, Duration("en", f.OldestWait))
	} else {
		zh += "- 待我审批：0 条\n"
		en += "- Waiting for you: none\n"
	}
	zh += fmt.Sprintf("- 我部门的超时审批：%d 条\n", f.OverdueOpen)
	en += fmt.Sprintf("- Overdue in your departments: %d\n", f.OverdueOpen)
	zh += fmt.Sprintf("- 昨日：提交 %d，通过 %d，驳回 %d\n", f.Submitted, f.Approved, f.Rejected)
	en += fmt.Sprintf("- Yesterday: %d submitted, %d approved, %d rejected\n", f.Submitted, f.Approved, f.Rejected)
	if f.MedianN > 0 {
		zh += fmt.Sprintf("- 近 30 天审批用时中位数：%s（%d 条）\n", Duration("zh", f.Median), f.MedianN)
		en += fmt.Sprintf("- Median time to decision, last 30 days: %s (%d requests)\n", Duration("en", f.Median), f.MedianN)
	}
	if f.HasSlowestStep {
		zh += fmt.Sprintf("- 最慢的环节：「%s」，等待中位数 %s\n", f.SlowStep.In("zh"), Duration("zh", f.SlowStepWait))
		en += fmt.Sprintf("- Slowest step: \"%s\", median wait %s\n", f.SlowStep.In("en"), Duration("en", f.SlowStepWait))
	}
	if f.DashboardURL != "" {
		zh += fmt.Sprintf("- 流程看板：%s\n", f.DashboardURL)
		en += fmt.Sprintf("- Dashboard: %s\n", f.DashboardURL)
	}
	return flowdef.Text{ZH: zh, EN: en}
}

// report builds the monthly process-health report for the month before at.
func (s *Scheduler) report(ctx context.Context, in *input, _ *flows.User, at time.Time) (flowdef.Text, bool) {
	end := time.Date(at.Year(), at.Month(), 1, 0, 0, 0, 0, at.Location())
	start := end.AddDate(0, -1, 0)
	r := flowstats.Build(in.rows, flowstats.Query{Since: start, Until: end, Now: in.now})
	month := start.Format("2006-01")
	zh := fmt.Sprintf("**流程健康月报 · %s**\n", month)
	en := fmt.Sprintf("**Process health report · %s**\n", month)
	zh += fmt.Sprintf("共提交 %d，通过 %d，驳回 %d，撤回 %d；用时中位数 %s，P90 %s；超时率 %s\n",
		r.Total.Submitted, r.Total.Approved, r.Total.Rejected, r.Total.Withdrawn,
		Duration("zh", r.Total.Decision.Median), Duration("zh", r.Total.Decision.P90), percent(r.Total.OverdueRate))
	en += fmt.Sprintf("%d submitted, %d approved, %d rejected, %d withdrawn; median time to decision %s, p90 %s; overdue rate %s\n",
		r.Total.Submitted, r.Total.Approved, r.Total.Rejected, r.Total.Withdrawn,
		Duration("en", r.Total.Decision.Median), Duration("en", r.Total.Decision.P90), percent(r.Total.OverdueRate))
	flowsSorted := slices.Clone(r.Flows)
	slices.SortStableFunc(flowsSorted, func(a, b flowstats.FlowStats) int { return b.Submitted - a.Submitted })
	for _, f := range flowsSorted {
		zh += fmt.Sprintf("- **%s**：提交 %d，通过 %d，驳回 %d（驳回率 %s），用时中位数 %s，超时率 %s",
			f.Key, f.Submitted, f.Approved, f.Rejected, percent(f.RejectionRate), Duration("zh", f.Decision.Median), percent(f.OverdueRate))
		en += fmt.Sprintf("- **%s**: %d submitted, %d approved, %d rejected (%s rejected), median %s, overdue %s",
			f.Key, f.Submitted, f.Approved, f.Rejected, percent(f.RejectionRate), Duration("en", f.Decision.Median), percent(f.OverdueRate))
		if f.Bottleneck != "" {
			name := s.stepName(ctx, f.Key, f.Bottleneck)
			zh += fmt.Sprintf("；瓶颈「%s」（%s）", name.In("zh"), Duration("zh", f.BottleneckWait))
			en += fmt.Sprintf("; bottleneck \"%s\" (%s)", name.In("en"), Duration("en", f.BottleneckWait))
		}
		zh += "\n"
		en += "\n"
	}
	if len(r.Flows) == 0 {
		zh += "本月没有申请。\n"
		en += "No requests this month.\n"
	}
	if s.cfg.DashboardURL != "" {
		zh += fmt.Sprintf("流程看板：%s\n", s.cfg.DashboardURL)
		en += fmt.Sprintf("Dashboard: %s\n", s.cfg.DashboardURL)
	}
	return flowdef.Text{ZH: zh, EN: en}, true
}

func percent(x float64) string { return fmt.Sprintf("%.0f%%", x*100) }

// Duration formats d roughly, in days, hours and minutes.
func Duration(locale string, d time.Duration) string {
	zh := len(locale) >= 2 && locale[:2] == "zh"
	if d < time.Minute {
		if zh {
			return "不到 1 分钟"
		}
		return "under a minute"
	}
	days, hours, mins := int(d/(24*time.Hour)), int(d%(24*time.Hour)/time.Hour), int(d%time.Hour/time.Minute)
	var out string
	add := func(n int, zhUnit, enUnit string) {
		if n == 0 {
			return
		}
		if out != "" {
			out += " "
		}
		if zh {
			out += fmt.Sprintf("%d %s", n, zhUnit)
			return
		}
		out += fmt.Sprintf("%d%s", n, enUnit)
	}
	add(days, "天", "d")
	add(hours, "小时", "h")
	if days == 0 {
		add(mins, "分钟", "m")
	}
	return out
}

// textData is the outbox data of a text message: the text, plus the
// fields of extra (the owner report's image).
func textData(t flowdef.Text, extra ...map[string]any) (json.RawMessage, error) {
	m := map[string]any{}
	for _, x := range extra {
		for k, v := range x {
			m[k] = v
		}
	}
	m["text"] = map[string]string{"zh": t.ZH, "en": t.EN}
	b, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("encode text: %w", err)
	}
	return b, nil
}
