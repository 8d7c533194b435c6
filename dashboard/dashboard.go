package dashboard

import (
	"cmp"
	"context"
	"encoding/csv"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/flowbot/flowbot/charts"
	"github.com/flowbot/flowbot/flows/flowdef"
	"github.com/flowbot/flowbot/flows/flowstats"
)

// Config configures a Handler.
type Config struct {
	// Aggregate holds the figures.
	Aggregate *flowstats.Aggregate
	// Refresh brings the aggregate up to date before a page is drawn (nil:
	// never).
	Refresh func(ctx context.Context) error
	// Flows returns the current flow definitions: their steps in order and
	// their names.
	Flows func(ctx context.Context) ([]*flowdef.Definition, error)
	// Overdue lists the open tasks past a deadline now (nil: no list).
	Overdue func(ctx context.Context, now time.Time) ([]OverdueTask, error)
	// Now is the clock (nil: time.Now); the period ends now.
	Now    func() time.Time
	Logger *slog.Logger
	// Reports checks the signed links of monthly reports (nil: reports
	// open to signed-in users only).
	Reports *ReportSigner
	// ReportAccess says whether viewer may still see flowID's report when
	// a signed link is opened (the flow's owner, an admin...); nil refuses
	// every signed link.
	ReportAccess func(ctx context.Context, viewer, flowID string) (bool, error)
	// Renderer draws the charts; share the process's one (nil: the
	// dashboard makes its own).
	Renderer *charts.Renderer
	// Charts reads the charts kept when reports were sent (nil: the chart
	// is drawn again from the figures).
	Charts ChartStore
}

// OverdueTask is one row of the overdue list.
type OverdueTask struct {
	Number   string // the request's number
	FlowID   string
	StepID   string
	Assignee string
	Since    time.Time // when the task began to wait
}

// Handler serves GET / (the page) and GET /csv (the figures of the same
// filters as CSV).
type Handler struct {
	cfg    Config
	mux    *http.ServeMux
	charts *charts.Renderer
	// chartsErr is why the chart fonts did not load (charts is nil then):
	// the pages still answer, the charts are refused.
	chartsErr error
	public    *http.ServeMux // what a signed report link opens
}

// New returns the dashboard's handler.
func New(cfg Config) *Handler {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	r, err := cfg.Renderer, error(nil)
	if r == nil {
		r, err = charts.NewRenderer()
	}
	if err != nil {
		cfg.Logger.Error("dashboard: chart fonts did not load; charts are off", "err", err)
	}
	h := &Handler{cfg: cfg, mux: http.NewServeMux(), charts: r, chartsErr: err, public: http.NewServeMux()}
	h.mux.HandleFunc("GET /{$}", h.page)
	h.mux.HandleFunc("GET /csv", h.csv)
	for _, m := range []*http.ServeMux{h.mux, h.public} {
		m.HandleFunc("GET /report", h.report)
		m.HandleFunc("GET /report/chart.png", h.reportChart)
	}
	return h
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.mux.ServeHTTP(w, r) }

// Public serves what a signed report link opens without signing in:
// GET /report and /report/chart.png with a token (t=...). Mount it in
// front of sign-in for requests that carry t; every other request goes to
// the Handler behind sign-in.
func (h *Handler) Public() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !r.URL.Query().Has("t") {
			h.refuse(w, r.URL.Query().Get("lang"), &refusal{http.StatusForbidden, "请先登录。", "Sign in first."})
			return
		}
		h.public.ServeHTTP(w, r)
	})
}

// maxWeeks bounds the period a page may ask for.
const maxWeeks = 104

var idPattern = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,64}$`)

// query is a parsed, checked request.
type query struct {
	lang   string
	flow   string
	dept   string
	weeks  int
	filter flowstats.Filter
	defs   []*flowdef.Definition
}

// badRequest is a refused filter, told in both languages.
type badRequest struct{ en, zh string }

func (e *badRequest) Error() string { return e.en }

func (h *Handler) parse(r *http.Request) (*query, error) {
	v := r.URL.Query()
	q := &query{lang: "zh", weeks: 26}
	if l := v.Get("lang"); l != "" {
		if l != "zh" && l != "en" {
			return nil, &badRequest{"unknown language (zh or en)", "未知语言（zh 或 en）"}
		}
		q.lang = l
	}
	if s := v.Get("weeks"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > maxWeeks {
			if len(s) > 8 {
				s = s[:8] + "…"
			}
			return nil, &badRequest{fmt.Sprintf("period must be 1 to %d weeks, not %q", maxWeeks, s), fmt.Sprintf("周期须为 1 到 %d 周，而不是 %q", maxWeeks, s)}
		}
		q.weeks = n
	}
	defs, err := h.cfg.Flows(r.Context())
	if err != nil {
		return nil, fmt.Errorf("load flows: %w", err)
	}
	q.defs = defs
	if f := v.Get("flow"); f != "" {
		if !idPattern.MatchString(f) {
			return nil, &badRequest{"malformed flow id", "流程 id 格式不对"}
		}
		if !slices.ContainsFunc(defs, func(d *flowdef.Definition) bool { return d.ID == f }) {
			return nil, &badRequest{"no flow " + strconv.Quote(f), "没有流程 " + strconv.Quote(f)}
		}
		q.flow = f
	}
	if d := v.Get("dept"); d != "" {
		if !idPattern.MatchString(d) {
			return nil, &badRequest{"malformed department id", "部门 id 格式不对"}
		}
		q.dept = d
	}
	now := h.cfg.Now()
	q.filter = flowstats.Filter{FlowID: q.flow, Dept: q.dept, Since: now.AddDate(0, 0, -7*q.weeks), Until: now}
	return q, nil
}

// prepare refreshes the aggregate and parses the request; it answers the
// error itself and returns nil then.
func (h *Handler) prepare(w http.ResponseWriter, r *http.Request) *query {
	q, err := h.parse(r)
	if bad, ok := err.(*badRequest); ok {
		msg := bad.en
		if r.URL.Query().Get("lang") != "en" {
			msg = bad.zh + " / " + bad.en
		}
		http.Error(w, msg, http.StatusBadRequest)
		return nil
	}
	if err == nil && h.cfg.Aggregate.Warming() {
		h.warming(w, q.lang)
		return nil
	}
	if err == nil && h.cfg.Refresh != nil {
		err = h.cfg.Refresh(r.Context())
	}
	if err != nil {
		h.cfg.Logger.Error("dashboard", "err", err)
		http.Error(w, "统计暂不可用 / statistics unavailable", http.StatusInternalServerError)
		return nil
	}
	if q.dept != "" {
		all := h.cfg.Aggregate.Summary(flowstats.Filter{})
		if all.Dept(q.dept) == nil {
			http.Error(w, "没有部门 "+strconv.Quote(q.dept)+" / no department "+strconv.Quote(q.dept), http.StatusBadRequest)
			return nil
		}
	}
	return q
}

// warming answers while the aggregate rebuilds after a start: 503 with
// Retry-After, and a page that reloads itself, saying how many events are
// folded so far.
func (h *Handler) warming(w http.ResponseWriter, lang string) {
	w.Header().Set("Retry-After", "5")
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(http.StatusServiceUnavailable)
	n := h.cfg.Aggregate.Cursor()
	fmt.Fprintf(w, `<!doctype html><html lang="%s"><head><meta charset="utf-8"><meta http-equiv="refresh" content="5"><title>%s</title></head><body><p data-testid="warming">%s</p></body></html>`,
		lang, tr(lang, "统计正在预热", "Statistics warming up"),
		tr(lang, fmt.Sprintf("统计正在预热：启动后正在读取事件日志（已读到第 %d 条事件），几秒后自动刷新。", n),
			fmt.Sprintf("Statistics are warming up: the event log is being read after a start (up to event %d so far); this page reloads itself in a few seconds.", n)))
}

func (h *Handler) csv(w http.ResponseWriter, r *http.Request) {
	q := h.prepare(w, r)
	if q == nil {
		return
	}
	s := h.cfg.Aggregate.Summary(q.filter)
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="flowbot-stats.csv"`)
	cw := csv.NewWriter(w)
	hours := func(d time.Duration) string { return strconv.FormatFloat(d.Hours(), 'f', 2, 64) }
	rate := func(x float64) string { return strconv.FormatFloat(x, 'f', 4, 64) }
	_ = cw.Write([]string{"kind", "flow", "step", "key", "submitted_or_tasks", "approved", "rejected", "withdrawn", "sent_back", "overdue",
		"median_work_hours", "p90_work_hours", "median_wall_hours", "waiting_share", "rejection_rate", "overdue_rate",
		"return_rate", "send_back_rate", "withdrawal_rate"})
	for _, f := range s.Flows {
		_ = cw.Write([]string{"flow", f.FlowID, "", "", strconv.Itoa(f.Submitted), strconv.Itoa(f.Approved), strconv.Itoa(f.Rejected), strconv.Itoa(f.Withdrawn),
			strconv.Itoa(f.SentBack), strconv.Itoa(f.Overdue), hours(f.DecisionWork.Median), hours(f.DecisionWork.P90), hours(f.Decision.Median), "", rate(f.RejectionRate), rate(f.OverdueRate),
			rate(f.SendBackRate), rate(f.SendToStepRate), rate(f.WithdrawalRate)})
		for _, st := range f.Steps {
			_ = cw.Write([]string{"step", f.FlowID, st.StepID, "", strconv.Itoa(st.Tasks), strconv.Itoa(st.Approved), strconv.Itoa(st.Rejected), "",
				strconv.Itoa(st.SentBack), strconv.Itoa(st.Overdue), hours(st.WaitWork.Median), hours(st.WaitWork.P90), hours(st.Wait.Median), rate(st.Share), rate(st.RejectionRate), rate(st.OverdueRate),
				rate(st.ReturnRate), rate(st.SendToStepRate), ""})
		}
	}
	for _, d := range s.Depts {
		_ = cw.Write([]string{"dept", "", "", d.Dept, strconv.Itoa(d.Submitted), strconv.Itoa(d.Approved), strconv.Itoa(d.Rejected), strconv.Itoa(d.Withdrawn),
			strconv.Itoa(d.SentBack), strconv.Itoa(d.Overdue), hours(d.DecisionWork.Median), hours(d.DecisionWork.P90), hours(d.Decision.Median), "", rate(d.RejectionRate), rate(d.OverdueRate),
			rate(d.SendBackRate), rate(d.SendToStepRate), rate(d.WithdrawalRate)})
	}
	for _, a := range s.Approvers {
		_ = cw.Write([]string{"approver", "", "", a.Approver, strconv.Itoa(a.Tasks), strconv.Itoa(a.Approved), strconv.Itoa(a.Rejected), "",
			strconv.Itoa(a.SentBack), strconv.Itoa(a.Overdue), hours(a.WaitWork.Median), hours(a.WaitWork.P90), hours(a.Wait.Median), rate(a.Share), rate(a.RejectionRate), rate(a.OverdueRate),
			rate(a.ReturnRate), rate(a.SendToStepRate), ""})
	}
	cw.Flush()
}

// Heat is the colour scale of the heat map, coolest first.
var Heat = []string{"#fff5d6", "#fdd49e", "#fc8d59", "#e34a33", "#b30000"}

// heat returns the colour of a median wait m against the flow's largest.
func heat(m, top time.Duration) string {
	if top <= 0 || m <= 0 {
		return Heat[0]
	}
	i := int(float64(m) / float64(top) * float64(len(Heat)-1))
	return Heat[min(max(i, 0), len(Heat)-1)]
}

func tr(lang, zh, en string) string {
	if lang == "en" {
		return en
	}
	return zh
}

func (h *Handler) page(w http.ResponseWriter, r *http.Request) {
	q := h.prepare(w, r)
	if q == nil {
		return
	}
	a := h.cfg.Aggregate
	s := a.Summary(q.filter)
	day := a.WorkDay()
	days := func(d time.Duration) string { return strconv.FormatFloat(float64(d)/float64(day), 'f', 1, 64) }
	var b strings.Builder
	L := func(zh, en string) string { return tr(q.lang, zh, en) }
	esc := template.HTMLEscapeString
	link := func(lang string) string {
		v := r.URL.Query()
		v.Set("lang", lang)
		return "?" + v.Encode()
	}
	fmt.Fprintf(&b, `<!doctype html><html lang="%s"><head><meta charset="utf-8"><title>%s</title><style>
body{font-family:system-ui,sans-serif;margin:1.5em;color:#222}h2{margin-top:1.5em}table{border-collapse:collapse}td,th{border:1px solid #ddd;padding:.25em .6em;text-align:right}th:first-child,td:first-child{text-align:left}
.bn{background:#fff3f0;border-left:4px solid #b30000;padding:.5em 1em;max-width:60em}form{margin:.5em 0}nav a{margin-right:1em}</style></head><body>`,
		q.lang, L("流程看板", "Process dashboard"))
	fmt.Fprintf(&b, `<nav><a href="../">%s</a><a href="%s">中文</a><a href="%s">English</a></nav><h1>%s</h1>`,
		L("← 试用页", "← playground"), esc(link("zh")), esc(link("en")), L("流程看板", "Process dashboard"))
	// Filters.
	fmt.Fprintf(&b, `<form method="get"><input type="hidden" name="lang" value="%s"><label>%s <select name="flow"><option value="">%s</option>`, q.lang, L("流程", "Flow"), L("全部", "all"))
	for _, d := range q.defs {
		sel := ""
		if d.ID == q.flow {
			sel = " selected"
		}
		fmt.Fprintf(&b, `<option value="%s"%s>%s</option>`, esc(d.ID), sel, esc(d.Name.In(q.lang)))
	}
	fmt.Fprintf(&b, `</select></label> <label>%s <select name="dept"><option value="">%s</option>`, L("部门", "Department"), L("全部", "all"))
	for _, d := range a.Summary(flowstats.Filter{}).Depts {
		sel := ""
		if d.Dept == q.dept {
			sel = " selected"
		}
		fmt.Fprintf(&b, `<option value="%s"%s>%s</option>`, esc(d.Dept), sel, esc(d.Dept))
	}
	fmt.Fprintf(&b, `</select></label> <label>%s <input name="weeks" type="number" min="1" max="%d" value="%d"></label> <button>%s</button> <a href="csv?%s">CSV</a></form>`,
		L("最近几周", "Last weeks"), maxWeeks, q.weeks, L("筛选", "Filter"), esc(r.URL.Query().Encode()))
	t := s.Total
	fmt.Fprintf(&b, `<p>%s <b>%d</b> · %s <b>%d</b> · %s <b>%d</b> · %s <b>%s</b> %s (p90 %s) · %s <b>%.0f%%</b> · %s <b>%.0f%%</b> · %s <b>%.0f%%</b></p>`,
		L("提交", "Filed"), t.Submitted, L("通过", "approved"), t.Approved, L("驳回", "rejected"), t.Rejected,
		L("审批时长中位数", "median time to decision"), days(t.DecisionWork.Median), L("个工作日", "working days"), days(t.DecisionWork.P90),
		L("退回申请人率", "returned"), 100*t.SendBackRate, L("撤回率", "withdrawn"), 100*t.WithdrawalRate, L("超期率", "overdue"), 100*t.OverdueRate)
	fmt.Fprintf(&b, `<p>%s <b>%.0f%%</b></p>`, L("退回前面环节率", "sent back to an earlier step"), 100*t.SendToStepRate)
	if t.Ratings > 0 {
		fmt.Fprintf(&b, `<p data-testid="satisfaction">%s <b>%.1f</b> / 5 (%d %s)</p>`, L("满意度", "Satisfaction"), t.Satisfaction, t.Ratings, L("条评价", "ratings"))
	}
	names := flowstats.Names{Flows: map[string]string{}, Steps: map[string]string{}}
	for _, d := range q.defs {
		names.Flows[d.ID] = d.Name.In(q.lang)
		for _, st := range d.Steps {
			if n := st.Name.In(q.lang); n != "" {
				names.Steps[d.ID+"/"+st.ID] = n
			}
		}
	}
	for _, d := range q.defs {
		if q.flow != "" && d.ID != q.flow {
			continue
		}
		ff := s.Flow(d.ID)
		fmt.Fprintf(&b, `<h2>%s</h2>`, esc(d.Name.In(q.lang)))
		if ff != nil && ff.Ratings > 0 {
			fmt.Fprintf(&b, `<p>%s %.1f / 5 (%d)</p>`, L("满意度", "Satisfaction"), ff.Satisfaction, ff.Ratings)
		}
		if ff == nil {
			fmt.Fprintf(&b, `<p>%s</p>`, L("这段时间没有数据。", "No data in this period."))
			b.WriteString(heatMap(d, &flowstats.FlowFigures{FlowID: d.ID}, q.lang, days)) // the diagram still
			continue
		}
		if bn := a.Bottleneck(q.filter, d.ID); bn != nil {
			fmt.Fprintf(&b, `<p class="bn">%s</p>`, esc(bn.Text(q.lang, names)))
		}
		b.WriteString(heatMap(d, ff, q.lang, days))
		b.WriteString(rateTable(d, ff, q.lang, days))
		if acc := a.Accuracy(d.ID, 0); acc != nil {
			fmt.Fprintf(&b, `<p class="acc" data-testid="accuracy" data-flow="%s">%s</p>`, esc(d.ID), L(
				fmt.Sprintf("预计完成时间的准确度（最近 %d 条已通过的申请，每条只用它之前几周的数据预测）：%.0f%% 在 P90 预计之前完成，%.0f%% 与中位预计相差不到四分之一；误差中位数 %s 个工作日。", acc.N, 100*acc.WithinP90, 100*acc.Within, days(acc.MedianError)),
				fmt.Sprintf("Forecast accuracy (the last %d approved requests, each forecast from the weeks before it only): %.0f%% finished by the p90 forecast, %.0f%% within a quarter of the median forecast; median error %s working days.", acc.N, 100*acc.WithinP90, 100*acc.Within, days(acc.MedianError))))
		}
	}
	if h.cfg.Overdue != nil {
		rows, err := h.cfg.Overdue(r.Context(), h.cfg.Now())
		if err != nil {
			h.cfg.Logger.Error("dashboard: overdue list", "err", err)
		}
		fmt.Fprintf(&b, `<h2>%s</h2><table data-testid="overdue"><tr><th>%s</th><th>%s</th><th>%s</th><th>%s</th><th>%s</th></tr>`, L("超期待办", "Overdue now"),
			L("申请", "Request"), L("流程", "Flow"), L("环节", "Step"), L("审批人", "Approver"), L("等待自", "Waiting since"))
		n := 0
		for _, o := range rows {
			if q.flow != "" && o.FlowID != q.flow {
				continue
			}
			n++
			fmt.Fprintf(&b, `<tr><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td></tr>`, esc(o.Number), esc(names.Flows[o.FlowID]), esc(o.StepID), esc(o.Assignee), o.Since.In(h.cfg.Now().Location()).Format("2006-01-02 15:04"))
		}
		b.WriteString(`</table>`)
		if n == 0 {
			fmt.Fprintf(&b, `<p>%s</p>`, L("没有超期的待办。", "Nothing is overdue."))
		}
	}
	fmt.Fprintf(&b, `<h2>%s</h2>`, L("每周提交量", "Requests filed per week"))
	b.WriteString(weekChart(s.Weeks, func(w flowstats.WeekFigures) float64 { return float64(w.Submitted) }, "#4575b4", func(x float64) string { return strconv.Itoa(int(x)) }))
	fmt.Fprintf(&b, `<h2>%s</h2>`, L("每周审批时长中位数（工作日）", "Median time to decision per week (working days)"))
	b.WriteString(weekChart(s.Weeks, func(w flowstats.WeekFigures) float64 { return float64(w.DecisionWork.Median) / float64(day) }, "#d73027", func(x float64) string { return strconv.FormatFloat(x, 'f', 1, 64) }))
	fmt.Fprintf(&b, `<h2>%s</h2><table><tr><th>%s</th><th>%s</th><th>%s</th><th>%s</th><th>%s</th></tr>`, L("部门", "Departments"),
		L("部门", "Department"), L("提交", "Filed"), L("中位数（工作日）", "Median (working days)"), L("驳回率", "Rejected"), L("超期率", "Overdue"))
	for _, d := range s.Depts {
		fmt.Fprintf(&b, `<tr><td>%s</td><td>%d</td><td>%s</td><td>%.0f%%</td><td>%.0f%%</td></tr>`, esc(d.Dept), d.Submitted, days(d.DecisionWork.Median), 100*d.RejectionRate, 100*d.OverdueRate)
	}
	fmt.Fprintf(&b, `</table><h2>%s</h2><table><tr><th>%s</th><th>%s</th><th>%s</th><th>%s</th><th>%s</th></tr>`, L("审批人", "Approvers"),
		L("审批人", "Approver"), L("待办", "Tasks"), L("等待中位数（工作日）", "Median wait (working days)"), L("等待占比", "Share of waiting"), L("催办", "Reminders"))
	for _, ap := range s.Approvers {
		fmt.Fprintf(&b, `<tr><td>%s</td><td>%d</td><td>%s</td><td>%.0f%%</td><td>%d</td></tr>`, esc(ap.Approver), ap.Tasks, days(ap.WaitWork.Median), 100*ap.Share, ap.Reminders)
	}
	b.WriteString(`</table></body></html>`)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_, _ = w.Write([]byte(b.String()))
}

// heatMap draws a flow as its diagram: start, every step left to right
// (approval, notify and http steps alike) and the end. An approval step's
// box is filled by its median wait against the flow's longest; a step with
// a condition carries it above its box ("if amount > 5000") and a dashed
// "else" path below that goes around it. A legend gives the colour scale.
func heatMap(d *flowdef.Definition, ff *flowstats.FlowFigures, lang string, days func(time.Duration) string) string {
	var longest time.Duration
	for _, st := range ff.Steps {
		longest = max(longest, st.WaitWork.Median)
	}
	const bw, bh, gap, top, r = 150, 64, 48, 34, 12
	esc := template.HTMLEscapeString
	mid := top + bh/2
	x0 := 10 + 2*r + gap // the first box
	width := x0 + len(d.Steps)*(bw+gap) + 2*r + 10
	height := top + bh + 56
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="heat" data-flow="%s" xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" role="img" font-family="system-ui,sans-serif">`, esc(d.ID), width, height)
	b.WriteString(`<defs><marker id="arr" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0L10,5L0,10z" fill="#666"/></marker></defs>`)
	arrow := func(x1, x2 int) {
		fmt.Fprintf(&b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#666" stroke-width="2" marker-end="url(#arr)"/>`, x1, mid, x2, mid)
	}
	fmt.Fprintf(&b, `<circle cx="%d" cy="%d" r="%d" fill="#fff" stroke="#666" stroke-width="2"/><text x="%d" y="%d" text-anchor="middle" font-size="11">%s</text>`,
		10+r, mid, r, 10+r, mid+r+14, tr(lang, "提交", "filed"))
	arrow(10+2*r, x0)
	for i, st := range d.Steps {
		x := x0 + i*(bw+gap)
		fill, stroke, dash, text := "#ffffff", "#888", "", "#222"
		var label string
		switch st.Kind {
		case flowdef.StepApprove, "":
			label = tr(lang, "无数据", "no data")
			var med time.Duration
			if f := ff.Step(st.ID); f != nil {
				med = f.WaitWork.Median
				label = fmt.Sprintf("%s %s %s · %.0f%%", tr(lang, "中位数", "median"), days(med), tr(lang, "天", "d"), 100*f.Share)
			}
			fill = heat(med, longest)
			if fill == Heat[3] || fill == Heat[4] {
				text = "#fff"
			}
		case flowdef.StepNotify:
			label, dash = tr(lang, "通知", "notify"), ` stroke-dasharray="4 3"`
		case flowdef.StepHTTP:
			label, dash = tr(lang, "调用外部系统", "calls a system"), ` stroke-dasharray="4 3"`
		}
		name := st.Name.In(lang)
		if name == "" {
			name = st.ID
		}
		fmt.Fprintf(&b, `<g data-kind="%s"><rect data-step="%s" x="%d" y="%d" width="%d" height="%d" rx="8" fill="%s" stroke="%s"%s/>`,
			esc(string(cmp.Or(st.Kind, flowdef.StepApprove))), esc(st.ID), x, top, bw, bh, fill, stroke, dash)
		fmt.Fprintf(&b, `<title>%s: %s</title>`, esc(name), esc(label))
		fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="middle" font-size="14" fill="%s">%s</text>`, x+bw/2, top+26, text, esc(clip(name, 18)))
		fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="middle" font-size="12" fill="%s">%s</text></g>`, x+bw/2, top+46, text, esc(label))
		arrow(x+bw, x+bw+gap) // to the next box, or the end
		if st.When != "" {
			// The condition over the box; the else path goes around it.
			fmt.Fprintf(&b, `<text class="when" data-when="%s" x="%d" y="%d" text-anchor="middle" font-size="12" fill="#1a5fb4">%s %s</text>`,
				esc(st.ID), x+bw/2, top-8, tr(lang, "若", "if"), esc(clip(st.When, 30)))
			lo := top + bh + 18
			fmt.Fprintf(&b, `<path class="else" d="M%d,%d V%d H%d V%d" fill="none" stroke="#1a5fb4" stroke-width="1.5" stroke-dasharray="5 4" marker-end="url(#arr)"/>`,
				x-gap/2, mid, lo, x+bw+gap/2, mid+2)
			fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="middle" font-size="11" fill="#1a5fb4">%s</text>`, x+bw/2, lo+14, tr(lang, "否则跳过", "else skipped"))
		}
	}
	end := x0 + len(d.Steps)*(bw+gap) + r
	fmt.Fprintf(&b, `<circle cx="%d" cy="%d" r="%d" fill="#666" stroke="#666" stroke-width="2"/><text x="%d" y="%d" text-anchor="middle" font-size="11">%s</text>`,
		end, mid, r, end, mid+r+14, tr(lang, "结束", "done"))
	b.WriteString(`</svg>`)
	b.WriteString(legend(lang, days(longest)))
	return b.String()
}

// rateTable lists a flow's outcome rates: per ended request of the flow
// (rejected, returned to the applicant, sent back to an earlier step,
// withdrawn), then per decision of each approval step in the order of the
// diagram.
func rateTable(d *flowdef.Definition, ff *flowstats.FlowFigures, lang string, days func(time.Duration) string) string {
	var b strings.Builder
	esc := template.HTMLEscapeString
	pct := func(x float64) string { return strconv.FormatFloat(100*x, 'f', 0, 64) + "%" }
	fmt.Fprintf(&b, `<p class="rates" data-testid="flow-rates" data-flow="%s">%s %d · %s %s · %s %s · %s %s · %s %s</p>`, esc(d.ID),
		tr(lang, "已结束", "Ended"), ff.Ended(), tr(lang, "驳回率", "rejected"), pct(ff.RejectionRate),
		tr(lang, "退回申请人率", "returned to the applicant"), pct(ff.SendBackRate),
		tr(lang, "退回前面环节率", "sent back to an earlier step"), pct(ff.SendToStepRate),
		tr(lang, "撤回率", "withdrawn"), pct(ff.WithdrawalRate))
	fmt.Fprintf(&b, `<table class="steps" data-testid="step-rates" data-flow="%s"><tr><th>%s</th><th>%s</th><th>%s</th><th>%s</th><th>%s</th><th>%s</th><th>%s</th></tr>`, esc(d.ID),
		tr(lang, "环节", "Step"), tr(lang, "决定", "Decisions"), tr(lang, "等待中位数（工作日）", "Median wait (working days)"),
		tr(lang, "驳回率", "Rejected"), tr(lang, "退回申请人", "Returned"), tr(lang, "退回前面环节", "Sent back"), tr(lang, "超期率", "Overdue"))
	for _, st := range d.Steps {
		f := ff.Step(st.ID)
		if f == nil {
			continue
		}
		name := cmp.Or(st.Name.In(lang), st.ID)
		fmt.Fprintf(&b, `<tr data-step="%s"><td>%s</td><td>%d</td><td>%s</td><td>%s</td><td class="ret">%s</td><td class="back">%s</td><td>%s</td></tr>`,
			esc(st.ID), esc(name), f.Approved+f.Rejected+f.SentBack+f.SentToStep, days(f.WaitWork.Median),
			pct(f.RejectionRate), pct(f.ReturnRate), pct(f.SendToStepRate), pct(f.OverdueRate))
	}
	b.WriteString(`</table>`)
	return b.String()
}

// legend shows the heat map's colour scale, from no wait to the longest.
func legend(lang, longest string) string {
	var b strings.Builder
	fmt.Fprintf(&b, `<div class="legend" style="font-size:12px;margin:.2em 0 1em">%s 0 `, tr(lang, "等待中位数：", "Median wait:"))
	for _, c := range Heat {
		fmt.Fprintf(&b, `<span style="display:inline-block;width:22px;height:12px;background:%s;border:1px solid #888;vertical-align:middle"></span>`, c)
	}
	fmt.Fprintf(&b, ` %s %s</div>`, template.HTMLEscapeString(longest), tr(lang, "个工作日", "working days"))
	return b.String()
}

// clip shortens s to n characters.
func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// weekChart draws one bar per week.
func weekChart(weeks []flowstats.WeekFigures, val func(flowstats.WeekFigures) float64, colour string, label func(float64) string) string {
	const bw, h = 22, 120
	var top float64
	for _, w := range weeks {
		top = max(top, val(w))
	}
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d">`, len(weeks)*bw+50, h+40)
	for i, w := range weeks {
		v := val(w)
		bh := 0
		if top > 0 {
			bh = int(v / top * h)
		}
		x := 40 + i*bw
		fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%d" height="%d" fill="%s"><title>%s: %s</title></rect>`, x, 10+h-bh, bw-4, bh, colour, w.Start.Format("2006-01-02"), label(v))
		if i%4 == 0 {
			fmt.Fprintf(&b, `<text x="%d" y="%d" font-size="10">%s</text>`, x, h+28, w.Start.Format("01-02"))
		}
	}
	fmt.Fprintf(&b, `<text x="0" y="18" font-size="10">%s</text><line x1="38" y1="%d" x2="%d" y2="%d" stroke="#999"/></svg>`, label(top), h+10, len(weeks)*bw+45, h+10)
	return b.String()
}
