package api

import (
	"errors"
	"io"
	"net/http"

	"github.com/flowbot/flowbot/flows"
	"github.com/flowbot/flowbot/flows/flowdef"
)

// readYAML reads a flow definition body (YAML as sent by the caller).
func readYAML(r *http.Request) ([]byte, error) {
	src, err := io.ReadAll(r.Body)
	if err != nil {
		return nil, err // a *http.MaxBytesError answers 413
	}
	if len(src) == 0 {
		return nil, errInvalid("请求体为空，应为流程的 YAML。", "The body is empty; want the flow's YAML.")
	}
	return src, nil
}

// parseErrors lists a definition's mistakes, one line each (file:line).
func parseErrors(err error) []string {
	var list flowdef.Errors
	if errors.As(err, &list) {
		out := make([]string, len(list))
		for i, e := range list {
			out[i] = e.Error()
		}
		return out
	}
	return []string{err.Error()}
}

type flowVersionJSON struct {
	Version   int    `json:"version"`
	Hash      string `json:"hash"`
	CreatedAt string `json:"created_at"`
}

func (s *Server) getFlow(w http.ResponseWriter, r *http.Request, c *caller) error {
	id := r.PathValue("id")
	if !idRe.MatchString(id) {
		return errInvalid("路径中的流程 id 不合法。", "The flow id in the path is not valid.")
	}
	if !c.tok.AllowsFlow(id) {
		return errFlowScope
	}
	latest, err := s.cfg.Queries.Flow(r.Context(), id, 0)
	if errors.Is(err, flows.ErrNotFound) {
		return flows.Errorf(flows.CodeNotFound, "flow_unknown", map[string]any{"flow": id})
	}
	if err != nil {
		return err
	}
	versions := []flowVersionJSON{}
	for v := latest.Version; v >= 1 && len(versions) < 100; v-- {
		fv, err := s.cfg.Queries.Flow(r.Context(), id, v)
		if err != nil {
			return err
		}
		versions = append(versions, flowVersionJSON{Version: fv.Version, Hash: fv.Hash, CreatedAt: fv.CreatedAt.UTC().Format("2006-01-02T15:04:05Z07:00")})
	}
	writeJSON(w, http.StatusOK, map[string]any{"id": latest.ID, "version": latest.Version, "deleted": latest.Deleted, "source": string(latest.Source), "versions": versions})
	return nil
}

func (s *Server) validateFlow(w http.ResponseWriter, r *http.Request, c *caller) error {
	src, err := readYAML(r)
	if err != nil {
		return err
	}
	d, err := flowdef.Parse("draft.yaml", src)
	if err != nil {
		writeJSON(w, http.StatusOK, map[string]any{"valid": false, "errors": parseErrors(err)})
		return nil
	}
	writeJSON(w, http.StatusOK, map[string]any{"valid": true, "id": d.ID, "errors": []string{}})
	return nil
}

func (s *Server) publishFlow(w http.ResponseWriter, r *http.Request, c *caller) error {
	if c.user != nil {
		if err := flows.CanManage(c.user); err != nil {
			return err
		}
	}
	src, err := readYAML(r)
	if err != nil {
		return err
	}
	d, err := flowdef.Parse("draft.yaml", src)
	if err != nil {
		return &apiError{Code: CodeInvalid, Text: flowdef.Text{ZH: "流程定义有误：", EN: "The flow definition has mistakes: "}, Details: parseErrors(err)}
	}
	if !c.tok.AllowsFlow(d.ID) {
		return errFlowScope
	}
	_, v, err := s.cfg.Engine.PublishFlow(r.Context(), d.ID+".yaml", src)
	if err != nil {
		return err
	}
	s.logger(r.Context()).Info("flow published", "flow", d.ID, "version", v, "token", c.tok.ID)
	writeJSON(w, http.StatusCreated, map[string]any{"id": d.ID, "version": v})
	return nil
}

type dryRunBody struct {
	Applicant string         `json:"applicant"`
	Values    map[string]any `json:"values"`
}

func (s *Server) dryRun(w http.ResponseWriter, r *http.Request, c *caller) error {
	id := r.PathValue("id")
	if !idRe.MatchString(id) {
		return errInvalid("路径中的流程 id 不合法。", "The flow id in the path is not valid.")
	}
	var b dryRunBody
	if err := decode(r, &b); err != nil {
		return err
	}
	applicant := b.Applicant
	switch {
	case c.user != nil && applicant != "" && applicant != c.user.ID:
		return errActAs
	case c.user != nil:
		applicant = c.user.ID
	case applicant == "":
		return errInvalid("服务令牌须在 applicant 里给出申请人。", "A service token must name the applicant.")
	}
	def, route, err := s.cfg.Engine.DryRun(r.Context(), applicant, id, b.Values)
	if err != nil {
		return err
	}
	if !c.tok.AllowsFlow(def.ID) {
		return errFlowScope
	}
	writeJSON(w, http.StatusOK, map[string]any{"flow": def.ID, "route": routeOut(route)})
	return nil
}
