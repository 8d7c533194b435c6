package api

import (
	"encoding/csv"
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/flowbot/flowbot/flows"
)

// Exports stream page by page: memory stays flat whatever the number of
// requests or events. A failure after the first row can only cut the
// stream short (the status is sent already); it is logged.

const exportPage = 500

type rowWriter interface {
	row(v any, cells []string) error
	flush()
}

type csvRows struct {
	w *csv.Writer
	f http.Flusher
}

func (c *csvRows) row(_ any, cells []string) error { return c.w.Write(cells) }
func (c *csvRows) flush() {
	c.w.Flush()
	if c.f != nil {
		c.f.Flush()
	}
}

type jsonlRows struct {
	e *json.Encoder
	f http.Flusher
}

func (j *jsonlRows) row(v any, _ []string) error { return j.e.Encode(v) }
func (j *jsonlRows) flush() {
	if j.f != nil {
		j.f.Flush()
	}
}

func startExport(w http.ResponseWriter, format, name string, header []string) (rowWriter, error) {
	f, _ := w.(http.Flusher)
	if format == "jsonl" {
		w.Header().Set("Content-Type", "application/jsonl; charset=utf-8")
		w.Header().Set("Content-Disposition", `attachment; filename="`+name+`.jsonl"`)
		w.WriteHeader(http.StatusOK)
		return &jsonlRows{e: json.NewEncoder(w), f: f}, nil
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`.csv"`)
	w.WriteHeader(http.StatusOK)
	c := &csvRows{w: csv.NewWriter(w), f: f}
	return c, c.w.Write(header)
}

func exportFormat(r *http.Request) string {
	if r.URL.Query().Get("format") == "jsonl" {
		return "jsonl"
	}
	return "csv"
}

func tm(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

func (s *Server) exportRequests(w http.ResponseWriter, r *http.Request, c *caller) error {
	f, err := parseRequestFilter(r.URL.Query(), 1<<30)
	if err != nil {
		return err
	}
	if err := s.scopeFilter(c, &f); err != nil {
		return err
	}
	max := f.Limit // 0: everything
	f.Limit = exportPage
	// The first page is read before the status goes out, so that a
	// database error still gets a proper error body.
	page, err := s.cfg.Queries.Instances(r.Context(), f.InstanceFilter)
	if err != nil {
		return err
	}
	out, err := startExport(w, exportFormat(r), "requests",
		[]string{"id", "number", "flow_id", "flow_version", "applicant", "status", "step_id", "created_at", "updated_at", "closed_at", "form"})
	if err != nil {
		return nil
	}
	n := 0
	for len(page) > 0 {
		for _, in := range s.inFlows(c, page) {
			if max > 0 && n >= max {
				out.flush()
				return nil
			}
			ca := in.CreatedAt
			ua := in.UpdatedAt
			if err := out.row(in, []string{strconv.FormatInt(in.ID, 10), in.Number, in.FlowID, strconv.Itoa(in.FlowVersion), in.Applicant,
				string(in.Status), in.StepID, tm(&ca), tm(&ua), tm(in.ClosedAt), string(in.Form)}); err != nil {
				return nil // the client went away
			}
			n++
		}
		out.flush()
		if len(page) < exportPage {
			break
		}
		last := page[len(page)-1]
		f.BeforeAt, f.BeforeID = last.CreatedAt, last.ID
		if page, err = s.cfg.Queries.Instances(r.Context(), f.InstanceFilter); err != nil {
			s.logger(r.Context()).Error("export requests cut short", "err", err)
			return nil
		}
	}
	out.flush()
	return nil
}

func (s *Server) exportEvents(w http.ResponseWriter, r *http.Request, c *caller) error {
	ef := flows.EventFilter{Limit: exportPage}
	for k, vs := range r.URL.Query() {
		if len(vs) != 1 {
			return errInvalid("参数 "+k+" 只能出现一次。", "Parameter "+k+" may appear once.")
		}
		v := vs[0]
		switch k {
		case "format":
			if v != "csv" && v != "jsonl" {
				return errInvalid("format 只能是 csv 或 jsonl。", "format must be csv or jsonl.")
			}
		case "flow":
			if !idRe.MatchString(v) {
				return errInvalid("flow 不是合法的流程 id。", "flow is not a valid flow id.")
			}
			ef.FlowID = v
		case "request":
			id, err := strconv.ParseInt(v, 10, 64)
			if err != nil || id <= 0 {
				return errInvalid("request 须为正整数。", "request must be a positive integer.")
			}
			ef.InstanceID = id
		case "since", "until":
			t, err := time.Parse(time.RFC3339, v)
			if err != nil {
				return errInvalid(k+" 须为 RFC 3339 时间。", k+" must be an RFC 3339 time.")
			}
			if k == "since" {
				ef.Since = t
			} else {
				ef.Until = t
			}
		default:
			return errInvalid("未知参数 "+k+"。", "Unknown parameter "+k+".")
		}
	}
	if fs := c.tok.Flows(); fs != nil {
		if ef.FlowID == "" && len(fs) == 1 {
			ef.FlowID = fs[0]
		}
		if !c.tok.AllowsFlow(ef.FlowID) {
			return errFlowScope
		}
	}
	if !c.service() && !c.user.HasRole(flows.RoleAdmin) && !c.user.HasRole(flows.RoleAuditor) {
		if ef.InstanceID == 0 {
			return flows.Errorf(flows.CodeForbidden, "not_participant", nil)
		}
		if _, err := s.view(r, c, ef.InstanceID); err != nil {
			return err
		}
	}
	page, err := s.cfg.Queries.Events(r.Context(), ef)
	if err != nil {
		return err
	}
	out, err := startExport(w, exportFormat(r), "events",
		[]string{"id", "instance_id", "task_id", "flow_id", "step_id", "type", "actor", "auto", "at", "data"})
	if err != nil {
		return nil
	}
	for len(page) > 0 {
		for _, e := range page {
			if !c.tok.AllowsFlow(e.FlowID) {
				continue
			}
			at := e.At
			if err := out.row(e, []string{strconv.FormatInt(e.ID, 10), strconv.FormatInt(e.InstanceID, 10), strconv.FormatInt(e.TaskID, 10),
				e.FlowID, e.StepID, string(e.Type), e.Actor, strconv.FormatBool(e.Auto), tm(&at), string(e.Data)}); err != nil {
				return nil
			}
		}
		out.flush()
		if len(page) < exportPage {
			break
		}
		ef.AfterID = page[len(page)-1].ID
		if page, err = s.cfg.Queries.Events(r.Context(), ef); err != nil {
			s.logger(r.Context()).Error("export events cut short", "err", err)
			return nil
		}
	}
	out.flush()
	return nil
}
