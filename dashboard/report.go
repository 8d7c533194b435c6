package dashboard

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"html/template"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/flowbot/flowbot/charts"
	"github.com/flowbot/flowbot/flows/flowdef"
	"github.com/flowbot/flowbot/flows/flowstats"
)

// ChartStore reads a chart kept when a report was sent (package blobs'
// Store).
type ChartStore interface {
	Open(ctx context.Context, key string) (io.ReadCloser, error)
}

// reportReq is a checked report request: the flow, the month and the
// language, and how it was allowed (a signed link's grant, or nil for a
// signed-in user).
type reportReq struct {
	lang  string
	def   *flowdef.Definition
	month time.Time
	dept  string
	grant *ReportGrant
	token string
}

// refusal is a report request refused, with its status and a sentence in
// both languages.
type refusal struct {
	status int
	zh, en string
}

func (e *refusal) Error() string { return e.en }

// ReportURL is the path, under the dashboard, of flow's report of month
// opened with a signed link for viewer (token from ReportSigner.Token).
func ReportURL(token string) string { return "report?" + url.Values{"t": {token}}.Encode() }

// ChartURL is the path, under the dashboard, of the chart of a signed
// report link.
func ChartURL(token string) string { return "report/chart.png?" + url.Values{"t": {token}}.Encode() }

// parseReport reads a report request: with a signed link (t), the flow
// and month come from the link, which must be genuine and fresh, and the
// viewer must still be allowed to see the flow; without one, from flow
// and month (the signed-in path: the dashboard's access control is in
// front of it).
func (h *Handler) parseReport(r *http.Request) (*reportReq, error) {
	v := r.URL.Query()
	q := &reportReq{lang: "zh"}
	if l := v.Get("lang"); l != "" {
		if l != "zh" && l != "en" {
			return q, &refusal{http.StatusBadRequest, "未知语言（zh 或 en）", "unknown language (zh or en)"}
		}
		q.lang = l
	}
	flow, month := v.Get("flow"), v.Get("month")
	if t := v.Get("t"); t != "" || v.Has("t") {
		if h.cfg.Reports == nil {
			return q, &refusal{http.StatusForbidden, "此服务器不接受报告链接，请登录后查看。", "This server takes no report links; sign in to see the report."}
		}
		g, err := h.cfg.Reports.Verify(t)
		switch {
		case errors.Is(err, ErrLinkExpired):
			return q, &refusal{http.StatusGone, "此报告链接已过期：请从最新的月报卡片重新打开，或登录后查看。", "This report link has expired: open it again from the latest report card, or sign in."}
		case err != nil:
			return q, &refusal{http.StatusForbidden, "报告链接无效（被改动或伪造）。请从月报卡片打开原始链接。", "This report link is not valid (altered or forged). Open the link from the report card as it was sent."}
		}
		q.grant, q.token = &g, t
		flow, month = g.Flow, g.Month
	}
	if flow == "" || !idPattern.MatchString(flow) {
		return q, &refusal{http.StatusBadRequest, "缺少流程或流程 id 格式不对（flow=…）", "missing or malformed flow id (flow=…)"}
	}
	start, err := flowstats.ParseMonth(month, h.cfg.Aggregate.Calendar().Location)
	if err != nil {
		m := month
		if len(m) > 16 {
			m = m[:16] + "…"
		}
		return q, &refusal{http.StatusBadRequest, fmt.Sprintf("月份须为 YYYY-MM，例如 2026-11，而不是 %q", m), fmt.Sprintf("month must be YYYY-MM, e.g. 2026-11, not %q", m)}
	}
	if start.After(h.cfg.Now()) {
		return q, &refusal{http.StatusBadRequest, "这个月还没有开始。", "That month has not begun yet."}
	}
	q.month = start
	defs, err := h.cfg.Flows(r.Context())
	if err != nil {
		return q, fmt.Errorf("load flows: %w", err)
	}
	i := slices.IndexFunc(defs, func(d *flowdef.Definition) bool { return d.ID == flow })
	if i < 0 {
		return q, &refusal{http.StatusNotFound, "没有流程 " + strconv.Quote(flow), "no flow " + strconv.Quote(flow)}
	}
	q.def = defs[i]
	if q.grant != nil {
		if h.cfg.ReportAccess == nil {
			return q, &refusal{http.StatusForbidden, "此服务器不接受报告链接，请登录后查看。", "This server takes no report links; sign in to see the report."}
		}
		ok, err := h.cfg.ReportAccess(r.Context(), q.grant.Viewer, flow)
		if err != nil {
			return q, fmt.Errorf("check %s may see the report of %s: %w", q.grant.Viewer, flow, err)
		}
		if !ok {
			return q, &refusal{http.StatusForbidden, "你已无权查看此流程的报告。", "You may no longer see this flow's report."}
		}
		return q, nil
	}
	if d := v.Get("dept"); d != "" {
		if !idPattern.MatchString(d) {
			return q, &refusal{http.StatusBadRequest, "部门 id 格式不对", "malformed department id"}
		}
		q.dept = d
	}
	return q, nil
}

// refuse answers a refused report request with a small page in the
// request's language (both when Chinese), or logs an internal error.
func (h *Handler) refuse(w http.ResponseWriter, lang string, err error) {
	var rf *refusal
	if !errors.As(err, &rf) {
		h.cfg.Logger.Error("dashboard report", "err", err)
		rf = &refusal{http.StatusInternalServerError, "统计暂不可用，请稍后再试。", "Statistics are unavailable; try again later."}
	}
	msg := rf.en
	if lang != "en" {
		msg = rf.zh + " / " + rf.en
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(rf.status)
	fmt.Fprintf(w, `<!doctype html><html lang="%s"><head><meta charset="utf-8"><title>%s</title><style>body{font-family:system-ui,sans-serif;margin:2em;color:#222}.refused{border-left:4px solid #b30000;background:#fff3f0;padding:.6em 1em;max-width:50em}</style></head><body><h1>%s</h1><p class="refused" data-testid="refused">%s</p></body></html>`,
		lang, tr(lang, "无法打开报告", "Cannot open the report"), tr(lang, "无法打开报告", "Cannot open the report"), template.HTMLEscapeString(msg))
}

// ready refreshes the aggregate; false when it answered (warming, or an
// error).
func (h *Handler) ready(w http.ResponseWriter, r *http.Request, lang string) bool {
	if h.cfg.Aggregate.Warming() {
		h.warming(w, lang)
		return false
	}
	if h.cfg.Refresh != nil {
		if err := h.cfg.Refresh(r.Context()); err != nil {
			h.refuse(w, lang, err)
			return false
		}
	}
	return true
}

// report serves GET /report: one flow's process-health report of one
// month, printable.
func (h *Handler) report(w http.ResponseWriter, r *http.Request) {
	q, err := h.parseReport(r)
	if err != nil {
		h.refuse(w, q.lang, err)
		return
	}
	if !h.ready(w, r, q.lang) {
		return
	}
	a := h.cfg.Aggregate
	m := a.Month(flowstats.Filter{FlowID: q.def.ID, Dept: q.dept}, q.month)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "private, no-store")
	if q.grant != nil {
		w.Header().Set("Referrer-Policy", "no-referrer") // the token stays out of other sites' logs
	}
	_, _ = io.WriteString(w, h.reportPage(q, m))
}

// reportPage draws the report of month m.
func (h *Handler) reportPage(q *reportReq, m *flowstats.Month) string {
	a := h.cfg.Aggregate
	lang := q.lang
	L := func(zh, en string) string { return tr(lang, zh, en) }
	esc := template.HTMLEscapeString
	day := a.WorkDay()
	days := func(d time.Duration) string { return strconv.FormatFloat(float64(d)/float64(day), 'f', 1, 64) }
	name := q.def.Name.In(lang)
	month := m.Start.Format("2006-01")
	self := url.Values{}
	chart := url.Values{}
	if q.grant != nil {
		self.Set("t", q.token)
		chart.Set("t", q.token)
	} else {
		self.Set("flow", q.def.ID)
		self.Set("month", month)
		chart.Set("flow", q.def.ID)
		chart.Set("month", month)
		if q.dept != "" {
			self.Set("dept", q.dept)
			chart.Set("dept", q.dept)
		}
	}
	chart.Set("lang", lang) // the chart's labels follow the page
	langLink := func(l string) string {
		v := url.Values{}
		for k, x := range self {
			v[k] = x
		}
		v.Set("lang", l)
		return "report?" + v.Encode()
	}
	var b strings.Builder
	fmt.Fprintf(&b, `<!doctype html><html lang="%s"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title>%s · %s · %s</title><style>
body{font-family:system-ui,"Noto Sans CJK SC","PingFang SC",sans-serif;margin:1.5em auto;max-width:52em;color:#222;padding:0 1em}
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ddd;padding:.3em .7em;text-align:right}th:first-child,td:first-child{text-align:left}
.bn{background:#fff3f0;border-left:4px solid #b30000;padding:.5em 1em}.up{color:#b30000}.down{color:#1a7f37}nav a,nav button{margin-right:1em}
img.chart{max-width:100%%;height:auto;border:1px solid #eee}.muted{color:#666;font-size:.9em}
@media print{nav{display:none}body{margin:0;max-width:none}@page{size:A4;margin:12mm}h2{break-after:avoid}table,img.chart,.bn{break-inside:avoid}}
</style></head><body>`, lang, L("流程健康月报", "Process health report"), esc(name), month)
	fmt.Fprintf(&b, `<nav><a href="%s">中文</a><a href="%s">English</a><button type="button" onclick="window.print()">%s</button>`,
		esc(langLink("zh")), esc(langLink("en")), L("打印 / 存为 PDF", "Print / save as PDF"))
	if q.grant == nil {
		fmt.Fprintf(&b, `<a href="./?%s">%s</a>`, esc(url.Values{"flow": {q.def.ID}, "lang": {lang}}.Encode()), L("← 看板", "← dashboard"))
	}
	b.WriteString(`</nav>`)
	// The aggregate keeps weeks: the month's figures are those of the
	// weeks from the one of its first day to the last one starting in it.
	lo := m.Start.AddDate(0, 0, -((int(m.Start.Weekday()) + 6) % 7))
	hi := m.End.AddDate(0, 0, -1)
	hi = hi.AddDate(0, 0, 6-(int(hi.Weekday())+6)%7)
	fmt.Fprintf(&b, `<h1>%s · %s</h1><p class="muted" data-testid="period">%s · %s</p>`, L("流程健康月报", "Process health report"), esc(name), month,
		L(fmt.Sprintf("按周统计：%s 至 %s 的各周，与上月比较", lo.Format("01-02"), hi.Format("01-02")),
			fmt.Sprintf("counted by week: the weeks from %s to %s, compared with the month before", lo.Format("Jan 2"), hi.Format("Jan 2"))))
	if q.dept != "" {
		fmt.Fprintf(&b, `<p>%s %s</p>`, L("部门：", "Department:"), esc(q.dept))
	}
	n, p := m.Now, m.Before
	type row struct {
		key, label, now, before, change string
		worse                           bool // the change is for the worse
	}
	var rows []row
	rel := func(x, y float64) (string, bool) {
		if y == 0 {
			return "—", false
		}
		return fmt.Sprintf("%+.0f%%", 100*(x-y)/y), x > y
	}
	pts := func(x, y float64, either bool) string {
		if !either {
			return "—"
		}
		return fmt.Sprintf("%+.0f %s", 100*(x-y), L("个百分点", "pt"))
	}
	vc, _ := rel(float64(n.Submitted), float64(p.Submitted))
	rows = append(rows, row{"volume", L("申请量", "Requests filed"), strconv.Itoa(n.Submitted), strconv.Itoa(p.Submitted), vc, false})
	rows = append(rows, row{"ended", L("已结束", "Ended"), strconv.Itoa(n.Ended()), strconv.Itoa(p.Ended()), "—", false})
	timing := func(key, label string, x, y flowstats.Timing, get func(flowstats.Timing) time.Duration) {
		now, before, c, worse := "—", "—", "—", false
		if x.N > 0 {
			now = days(get(x))
		}
		if y.N > 0 {
			before = days(get(y))
		}
		if x.N > 0 && y.N > 0 {
			c, worse = rel(float64(get(x)), float64(get(y)))
		}
		rows = append(rows, row{key, label, now, before, c, worse})
	}
	timing("median", L("审批用时中位数（工作日）", "Median time to decision (working days)"), n.DecisionWork, p.DecisionWork, func(t flowstats.Timing) time.Duration { return t.Median })
	timing("p90", L("审批用时 P90（工作日）", "p90 time to decision (working days)"), n.DecisionWork, p.DecisionWork, func(t flowstats.Timing) time.Duration { return t.P90 })
	rate := func(x float64, has bool) string {
		if !has {
			return "—"
		}
		return strconv.FormatFloat(100*x, 'f', 0, 64) + "%"
	}
	rows = append(rows, row{"failure", L("失败率（驳回或出错）", "Failure rate (rejected or failed)"), rate(n.FailureRate(), n.Ended() > 0), rate(p.FailureRate(), p.Ended() > 0),
		pts(n.FailureRate(), p.FailureRate(), n.Ended() > 0 && p.Ended() > 0), n.Ended() > 0 && p.Ended() > 0 && n.FailureRate() > p.FailureRate()})
	rows = append(rows, row{"overdue", L("超期率", "Overdue rate"), rate(n.OverdueRate, n.Submitted > 0 || n.Ended() > 0), rate(p.OverdueRate, p.Submitted > 0 || p.Ended() > 0), "—", false})
	sat := func(f flowstats.Figures) string {
		if f.Ratings == 0 {
			return "—"
		}
		return fmt.Sprintf("%.1f / 5 (%d)", f.Satisfaction, f.Ratings)
	}
	sc, sworse := "—", false
	if n.Ratings > 0 && p.Ratings > 0 {
		sc, sworse = fmt.Sprintf("%+.1f", n.Satisfaction-p.Satisfaction), n.Satisfaction < p.Satisfaction
	}
	rows = append(rows, row{"satisfaction", L("满意度", "Satisfaction"), sat(n), sat(p), sc, sworse})
	fmt.Fprintf(&b, `<h2>%s</h2><table data-testid="figures"><tr><th></th><th>%s</th><th>%s</th><th>%s</th></tr>`, L("本月数字", "The month's figures"),
		esc(month), esc(m.Start.AddDate(0, -1, 0).Format("2006-01")), L("变化", "Change"))
	for _, r := range rows {
		cls := ""
		unchanged := r.change == "+0%" || r.change == "+0.0" || strings.HasPrefix(r.change, "+0 ")
		if r.change != "—" && !unchanged && r.key != "volume" && r.key != "ended" {
			cls = ` class="down"`
			if r.worse {
				cls = ` class="up"`
			}
		}
		fmt.Fprintf(&b, `<tr data-row="%s"><td>%s</td><td class="now">%s</td><td class="before">%s</td><td%s>%s</td></tr>`, r.key, esc(r.label), esc(r.now), esc(r.before), cls, esc(r.change))
	}
	b.WriteString(`</table>`)
	fmt.Fprintf(&b, `<h2>%s</h2>`, L("瓶颈", "Bottleneck"))
	if m.Bottleneck != nil {
		names := flowstats.Names{Flows: map[string]string{q.def.ID: name}, Steps: map[string]string{}}
		for _, st := range q.def.Steps {
			names.Steps[q.def.ID+"/"+st.ID] = cmp.Or(st.Name.In(lang), st.ID)
		}
		fmt.Fprintf(&b, `<p class="bn" data-testid="bottleneck" data-step="%s">%s</p>`, esc(m.Bottleneck.StepID), esc(m.Bottleneck.Text(lang, names)))
	} else {
		fmt.Fprintf(&b, `<p data-testid="bottleneck">%s</p>`, L("本月没有等待的申请。", "Nothing waited this month."))
	}
	if len(m.Steps) > 0 {
		fmt.Fprintf(&b, `<table data-testid="steps"><tr><th>%s</th><th>%s</th><th>%s</th><th>%s</th></tr>`, L("环节", "Step"), L("待办", "Tasks"), L("等待占比", "Share of waiting"), L("等待中位数（工作日）", "Median wait (working days)"))
		for _, st := range q.def.Steps {
			i := slices.IndexFunc(m.Steps, func(w flowstats.WaitFigures) bool { return w.StepID == st.ID })
			if i < 0 {
				continue
			}
			f := m.Steps[i]
			fmt.Fprintf(&b, `<tr data-step="%s"><td>%s</td><td>%d</td><td>%.0f%%</td><td>%s</td></tr>`, esc(st.ID), esc(cmp.Or(st.Name.In(lang), st.ID)), f.Tasks, 100*f.Share, days(f.WaitWork.Median))
		}
		b.WriteString(`</table>`)
	}
	fmt.Fprintf(&b, `<h2>%s</h2><img class="chart" data-testid="chart" src="%s" width="%d" height="%d" alt="%s">`, L("两个月的每周情况", "Week by week, two months"),
		esc("report/chart.png?"+chart.Encode()), charts.Width, charts.Height,
		esc(L("图表：每周申请量与审批用时中位数，以及各环节的等待占比", "Chart: requests filed and median time to decision per week, and each step's share of the waiting")))
	hours := strconv.FormatFloat(day.Hours(), 'f', -1, 64)
	fmt.Fprintf(&b, `<p class="muted">%s</p></body></html>`, L("用时按工作日历计算，一个工作日按 "+hours+" 小时计。", "Times are on the business calendar; a working day is "+hours+" hours."))
	return b.String()
}

// reportChart serves GET /report/chart.png: the chart kept when the
// report was sent (a signed link naming one), or drawn now from the
// figures.
func (h *Handler) reportChart(w http.ResponseWriter, r *http.Request) {
	q, err := h.parseReport(r)
	if err != nil {
		h.refuse(w, q.lang, err)
		return
	}
	w.Header().Set("Cache-Control", "private, max-age=300")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	if q.grant != nil && q.grant.Chart != "" && h.cfg.Charts != nil {
		rc, err := h.cfg.Charts.Open(r.Context(), q.grant.Chart)
		if err == nil {
			defer rc.Close()
			w.Header().Set("Content-Type", "image/png")
			if _, err := io.Copy(w, rc); err != nil {
				h.cfg.Logger.Warn("dashboard: send chart", "key", q.grant.Chart, "err", err)
			}
			return
		}
		h.cfg.Logger.Warn("dashboard: kept chart unreadable; drawing it again", "key", q.grant.Chart, "err", err)
	}
	if !h.ready(w, r, q.lang) {
		return
	}
	png, err := h.ChartPNG(q.def, flowstats.Filter{FlowID: q.def.ID, Dept: q.dept}, q.month, q.lang)
	if err != nil {
		h.refuse(w, q.lang, err)
		return
	}
	w.Header().Set("Content-Type", "image/png")
	_, _ = w.Write(png)
}

// ChartPNG draws the chart of d's month that starts at month (of
// department f.Dept when set), with its labels in lang ("zh" or "en").
func (h *Handler) ChartPNG(d *flowdef.Definition, f flowstats.Filter, month time.Time, lang string) ([]byte, error) {
	if h.charts == nil {
		return nil, fmt.Errorf("draw the chart of %s: %w", d.ID, h.chartsErr)
	}
	a := h.cfg.Aggregate
	m := a.Month(flowstats.Filter{FlowID: d.ID, Dept: f.Dept}, month)
	png, err := h.charts.HealthPNG(charts.MonthHealth(d, m, a.WorkDay(), lang))
	if err != nil {
		return nil, fmt.Errorf("draw the chart of %s: %w", d.ID, err)
	}
	return png, nil
}
