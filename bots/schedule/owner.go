package schedule

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/flowbot/flowbot/charts"
	"github.com/flowbot/flowbot/flows"
	"github.com/flowbot/flowbot/flows/flowdef"
	"github.com/flowbot/flowbot/flows/flowstats"
)

// JobOwnerReport is the monthly process-health report to each flow's
// owner (the flow's owner key).
const JobOwnerReport = "owner_report"

// FlowHealth is one flow's month in the owner's report, with the month
// before to compare.
type FlowHealth struct {
	FlowID string
	Name   flowdef.Text
	// This month and the month before (weeks starting in the month).
	Now, Before flowstats.Figures
	// Bottleneck says where this month's requests waited, in zh and en
	// ("" when nothing waited).
	Bottleneck flowdef.Text
	// Weekly is the number of requests filed each week of both months,
	// oldest first, for a chart.
	Weekly []int
	// Link is the dashboard filtered to the flow ("" without a dashboard).
	Link string
}

// OwnerCharts keeps the charts of the owners' monthly reports and signs
// the report pages' links (cmd/flowbot wires the blob store and the
// dashboard's report links).
type OwnerCharts interface {
	// KeepChart stores a chart PNG and returns its blob key.
	KeepChart(ctx context.Context, png []byte) (key string, err error)
	// ReportLinks returns the signed, expiring links through which viewer
	// opens flowID's report of the month that starts at month, and its
	// chart (chart: the kept chart's key, "" for none).
	ReportLinks(flowID string, month time.Time, viewer, chart string) (page, image string)
}

// FailureRate is the part of the ended requests that were rejected or
// failed.
func failureRate(f flowstats.Figures) float64 {
	if n := f.Ended(); n > 0 {
		return float64(f.Rejected+f.Failed) / float64(n)
	}
	return 0
}

// ownerMonth returns the first day of the month before at, and of at's.
func ownerMonth(at time.Time) (start, end time.Time) {
	end = time.Date(at.Year(), at.Month(), 1, 0, 0, 0, 0, at.Location())
	return end.AddDate(0, -1, 0), end
}

// runOwnerReports sends each flow owner the health of their flows for the
// month before, once per owner and month (the dedupe key names the
// month), at ReportSpec in the owner's time zone. It needs Config.Stats
// and Config.Flows.
func (s *Scheduler) runOwnerReports(ctx context.Context, now time.Time) error {
	if s.cfg.Stats == nil || s.cfg.Flows == nil {
		return nil
	}
	var defs []*flowdef.Definition
	var render *charts.Renderer
	images := map[string]map[string]any{} // each owner's chart, by user id
	return s.runRecipients(ctx, now, recipientJob{
		name: JobOwnerReport,
		spec: s.cfg.ReportSpec,
		who: func(users []*flows.User, _ []*flows.Department) []*flows.User {
			owners := map[string]bool{}
			for _, d := range defs {
				owners[d.Owner] = d.Owner != ""
			}
			var out []*flows.User
			for _, u := range users {
				if owners[u.ID] {
					out = append(out, u)
				}
			}
			return out
		},
		key: func(u *flows.User, at time.Time) string {
			start, _ := ownerMonth(at)
			return "owner-report:" + u.ID + ":" + start.Format("2006-01")
		},
		since: 0,
		text: func(ctx context.Context, _ *input, u *flows.User, at time.Time) (flowdef.Text, bool) {
			var hs []FlowHealth
			var mine []*flowdef.Definition
			for _, d := range defs {
				if d.Owner == u.ID {
					hs = append(hs, s.flowHealth(d, at))
					mine = append(mine, d)
				}
			}
			start, _ := ownerMonth(at)
			delete(images, u.ID)
			if s.cfg.OwnerCharts != nil && len(hs) > 0 {
				images[u.ID] = s.ownerChart(ctx, render, u, start, mine, hs)
			}
			return OwnerReportText(start, hs), len(hs) > 0
		},
		extra: func(u *flows.User) map[string]any { return images[u.ID] },
		prepare: func(ctx context.Context) error {
			var err error
			if s.cfg.OwnerCharts != nil && render == nil {
				if render, err = s.chartRenderer(); err != nil {
					return err
				}
			}
			if _, err = s.cfg.Stats.Update(ctx, s.cfg.Store); err != nil {
				return fmt.Errorf("update statistics: %w", err)
			}
			if defs, err = s.cfg.Flows(ctx); err != nil {
				return fmt.Errorf("load flows: %w", err)
			}
			return nil
		},
	})
}

// flowHealth measures flow d over the month before at and the one before.
func (s *Scheduler) flowHealth(d *flowdef.Definition, at time.Time) FlowHealth {
	agg := s.cfg.Stats
	start, end := ownerMonth(at)
	h := FlowHealth{FlowID: d.ID, Name: d.Name}
	if ff := agg.Summary(flowstats.Filter{FlowID: d.ID, Since: start, Until: end}).Flow(d.ID); ff != nil {
		h.Now = ff.Figures
	}
	if ff := agg.Summary(flowstats.Filter{FlowID: d.ID, Since: start.AddDate(0, -1, 0), Until: start}).Flow(d.ID); ff != nil {
		h.Before = ff.Figures
	}
	// Every week of both months, the empty ones too.
	filed := map[string]int{}
	var first time.Time
	for _, w := range agg.Summary(flowstats.Filter{FlowID: d.ID, Since: start.AddDate(0, -1, 0), Until: end}).Weeks {
		filed[w.Start.Format(time.DateOnly)] = w.Submitted
		if first.IsZero() {
			first = w.Start
		}
	}
	if !first.IsZero() {
		for first.AddDate(0, 0, -7).After(start.AddDate(0, -1, -7)) {
			first = first.AddDate(0, 0, -7)
		}
		for w := first; w.Before(end); w = w.AddDate(0, 0, 7) {
			h.Weekly = append(h.Weekly, filed[w.Format(time.DateOnly)])
		}
	}
	if bn := agg.Bottleneck(flowstats.Filter{Since: start, Until: end}, d.ID); bn != nil {
		names := func(lang string) flowstats.Names {
			n := flowstats.Names{Flows: map[string]string{d.ID: d.Name.In(lang)}, Steps: map[string]string{}}
			for _, st := range d.Steps {
				n.Steps[d.ID+"/"+st.ID] = st.Name.In(lang)
			}
			return n
		}
		h.Bottleneck = flowdef.Text{ZH: bn.Text("zh", names("zh")), EN: bn.Text("en", names("en"))}
	}
	if s.cfg.DashboardURL != "" {
		weeks := int(end.Sub(start).Hours()/24/7) + 1
		h.Link = s.cfg.DashboardURL + "?" + url.Values{"flow": {d.ID}, "weeks": {fmt.Sprint(weeks)}}.Encode()
	}
	return h
}

// change tells the change of x from before: "+12%" or "−0.3"; "" when
// there was nothing before.
func change(x, before float64, pct bool) string {
	if before == 0 {
		return ""
	}
	if pct {
		return fmt.Sprintf("%+.0f%%", 100*(x-before)/before)
	}
	return fmt.Sprintf("%+.1f", x-before)
}

// OwnerReportText renders the owner's monthly report for the month that
// starts at month: per flow its volume, time to decision, failure rate and
// satisfaction, each with its change from the month before, the
// bottleneck in plain words and a link to the flow on the dashboard.
func OwnerReportText(month time.Time, hs []FlowHealth) flowdef.Text {
	var zh, en strings.Builder
	fmt.Fprintf(&zh, "**流程健康月报 · %s**\n", month.Format("2006-01"))
	fmt.Fprintf(&en, "**Process health report · %s**\n", month.Format("2006-01"))
	for _, h := range hs {
		n, b := h.Now, h.Before
		paren := func(zh bool, c string) string {
			if c == "" {
				return ""
			}
			if zh {
				return "（较上月 " + c + "）"
			}
			return " (" + c + " on last month)"
		}
		days := func(t flowstats.Timing) float64 { return t.Median.Hours() / 24 }
		fmt.Fprintf(&zh, "\n**%s**\n", h.Name.In("zh"))
		fmt.Fprintf(&en, "\n**%s**\n", h.Name.In("en"))
		fmt.Fprintf(&zh, "- 申请量：%d%s\n", n.Submitted, paren(true, change(float64(n.Submitted), float64(b.Submitted), true)))
		fmt.Fprintf(&en, "- Volume: %d%s\n", n.Submitted, paren(false, change(float64(n.Submitted), float64(b.Submitted), true)))
		if n.DecisionWork.N > 0 {
			c := ""
			if b.DecisionWork.N > 0 {
				c = change(days(n.DecisionWork), days(b.DecisionWork), true)
			}
			fmt.Fprintf(&zh, "- 审批用时中位数：%s（工作时间 %s）%s\n", Duration("zh", n.Decision.Median), Duration("zh", n.DecisionWork.Median), paren(true, c))
			fmt.Fprintf(&en, "- Median time to decision: %s (%s working time)%s\n", Duration("en", n.Decision.Median), Duration("en", n.DecisionWork.Median), paren(false, c))
		}
		if n.Ended() > 0 {
			c := ""
			if b.Ended() > 0 {
				c = fmt.Sprintf("%+.0f pt", 100*(failureRate(n)-failureRate(b)))
			}
			fmt.Fprintf(&zh, "- 失败率（驳回或出错）：%s%s\n", percent(failureRate(n)), paren(true, strings.Replace(c, "pt", "个百分点", 1)))
			fmt.Fprintf(&en, "- Failure rate (rejected or failed): %s%s\n", percent(failureRate(n)), paren(false, c))
		}
		if n.Ratings > 0 {
			c := ""
			if b.Ratings > 0 {
				c = change(n.Satisfaction, b.Satisfaction, false)
			}
			fmt.Fprintf(&zh, "- 满意度：%.1f / 5（%d 条评价）%s\n", n.Satisfaction, n.Ratings, paren(true, c))
			fmt.Fprintf(&en, "- Satisfaction: %.1f / 5 (%d ratings)%s\n", n.Satisfaction, n.Ratings, paren(false, c))
		}
		if spark := sparkline(h.Weekly); spark != "" {
			fmt.Fprintf(&zh, "- 每周申请量（近两个月）：%s\n", spark)
			fmt.Fprintf(&en, "- Requests per week (two months): %s\n", spark)
		}
		if h.Bottleneck.ZH != "" {
			fmt.Fprintf(&zh, "- 瓶颈：%s\n", h.Bottleneck.ZH)
			fmt.Fprintf(&en, "- Bottleneck: %s\n", h.Bottleneck.EN)
		}
		if n.Submitted == 0 && n.Ended() == 0 {
			zh.WriteString("- 本月没有申请。\n")
			en.WriteString("- No requests this month.\n")
		}
		if h.Link != "" {
			fmt.Fprintf(&zh, "- 详情：%s\n", h.Link)
			fmt.Fprintf(&en, "- Details: %s\n", h.Link)
		}
	}
	return flowdef.Text{ZH: zh.String(), EN: en.String()}
}

// sparkline draws counts as a line of block characters, a chart that
// every platform shows ("" with no counts or all zero).
func sparkline(xs []int) string {
	top := 0
	for _, x := range xs {
		top = max(top, x)
	}
	if top == 0 {
		return ""
	}
	bars := []rune("▁▂▃▄▅▆▇█")
	out := make([]rune, len(xs))
	for i, x := range xs {
		out[i] = bars[x*(len(bars)-1)/top]
	}
	return string(out)
}

// ownerChart draws the chart of the owner's busiest flow of the month
// (the first one on a tie), keeps it, points each flow's link at its
// signed report page, and returns the message's image data
// ({"image": {key, url, alt}}); nil without a chart (it could not be
// drawn or kept: the report goes without, with its links).
func (s *Scheduler) ownerChart(ctx context.Context, render *charts.Renderer, u *flows.User, month time.Time, defs []*flowdef.Definition, hs []FlowHealth) map[string]any {
	best := 0
	for i, h := range hs {
		if h.Now.Submitted > hs[best].Now.Submitted {
			best = i
		}
	}
	d := defs[best]
	agg := s.cfg.Stats
	m := agg.Month(flowstats.Filter{FlowID: d.ID}, month)
	var key string
	lang := "en"
	if u.Locale == "" || strings.HasPrefix(u.Locale, "zh") { // users without a locale read Chinese (bots.DefaultLocale)
		lang = "zh"
	}
	png, err := render.HealthPNG(charts.MonthHealth(d, m, agg.WorkDay(), lang))
	if err == nil {
		key, err = s.cfg.OwnerCharts.KeepChart(ctx, png)
	}
	if err != nil {
		s.log.WarnContext(ctx, "owner report: no chart", "flow", d.ID, "to", u.ID, "err", err)
		key = ""
	}
	var image string
	for i := range hs {
		chart := ""
		if i == best {
			chart = key
		}
		page, img := s.cfg.OwnerCharts.ReportLinks(hs[i].FlowID, month, u.ID, chart)
		if page != "" {
			hs[i].Link = page
		}
		if i == best {
			image = img
		}
	}
	if key == "" || image == "" {
		return nil
	}
	name := hs[best].Name
	return map[string]any{"image": map[string]any{"key": key, "url": image, "alt": map[string]string{
		"zh": name.In("zh") + " " + month.Format("2006-01") + "：每周申请量、审批用时中位数与各环节等待占比",
		"en": name.In("en") + " " + month.Format("2006-01") + ": requests and median time to decision per week, and each step's share of the waiting",
	}}}
}

// chartRenderer is Config.ChartRenderer, or the scheduler's own, made once
// and kept for the next months' reports.
func (s *Scheduler) chartRenderer() (*charts.Renderer, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cfg.ChartRenderer == nil {
		r, err := charts.NewRenderer()
		if err != nil {
			return nil, fmt.Errorf("chart fonts: %w", err)
		}
		s.cfg.ChartRenderer = r
	}
	return s.cfg.ChartRenderer, nil
}
