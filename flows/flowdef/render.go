package flowdef

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"text/template"
)

func parseTemplate(name, src string) (*template.Template, error) {
	return template.New(name).Option("missingkey=zero").Funcs(template.FuncMap{
		"json": func(v any) (string, error) {
			b, err := json.Marshal(v)
			return string(b), err
		},
	}).Parse(src)
}

// RenderHTTP renders the URL and body templates of an http step with data
// (Form, Instance, Applicant). The body must come out as valid JSON.
func RenderHTTP(c *HTTPCall, data any) (url string, body []byte, err error) {
	ut, err := parseTemplate("url", c.URL)
	if err != nil {
		return "", nil, fmt.Errorf("parse url template: %w", err)
	}
	var ub bytes.Buffer
	if err := ut.Execute(&ub, data); err != nil {
		return "", nil, fmt.Errorf("render url: %w", err)
	}
	if strings.TrimSpace(c.Body) == "" {
		return ub.String(), nil, nil
	}
	bt, err := parseTemplate("body", c.Body)
	if err != nil {
		return "", nil, fmt.Errorf("parse body template: %w", err)
	}
	var bb bytes.Buffer
	if err := bt.Execute(&bb, data); err != nil {
		return "", nil, fmt.Errorf("render body: %w", err)
	}
	if !json.Valid(bb.Bytes()) {
		return "", nil, fmt.Errorf("render body: result is not valid JSON: %.200s", bb.String())
	}
	return ub.String(), bb.Bytes(), nil
}

// Mermaid draws a flow as a Mermaid `flowchart TD`: start, every step
// (name, kind, approvers, mode, condition), and the approved and rejected
// ends. A conditional step is entered by an edge labelled with its
// condition, and skipped by an edge labelled "not" and the condition. A
// step draws one dotted edge per outcome its on_reject offers: end goes to
// the rejected box, return back to the start (退回修改 / back to
// applicant), send_back to every earlier approve step (退回到此步 / send
// back). The rejected box is drawn only when some step can end there.
func Mermaid(d *Definition) string {
	var b strings.Builder
	b.WriteString("flowchart TD\n")
	fmt.Fprintf(&b, "    start([%s])\n", mq("Start: "+d.Name.In("en")+" / "+d.Name.In("zh")))
	for i := range d.Steps {
		s := &d.Steps[i]
		lines := []string{s.Name.In("en") + " / " + s.Name.In("zh"), string(s.Kind)}
		switch s.Kind {
		case StepApprove:
			lines[1] += " · " + string(s.Mode) + " · " + selectorsText(s.Approvers)
		case StepNotify:
			lines[1] += " · cc " + selectorsText(s.CC)
		case StepHTTP:
			if s.HTTP != nil {
				lines[1] += " · " + s.HTTP.Method + " " + s.HTTP.URL
			}
		}
		if s.When != "" {
			lines = append(lines, "when "+s.When)
		}
		fmt.Fprintf(&b, "    s%d[%s]\n", i, mq(strings.Join(lines, "<br/>")))
	}
	b.WriteString("    approved([Approved / 已通过])\n")
	for i := range d.Steps {
		if d.Steps[i].Kind == StepApprove && d.Steps[i].Offers(RejectEnd) {
			b.WriteString("    rejected([Rejected / 已拒绝])\n")
			break
		}
	}
	node := func(i int) string {
		if i >= len(d.Steps) {
			return "approved"
		}
		return fmt.Sprintf("s%d", i)
	}
	// prev lists the nodes flowing into step i with the label of the edge.
	type edge struct{ from, label string }
	prev := []edge{{"start", ""}}
	for i := 0; i <= len(d.Steps); i++ {
		to := node(i)
		var cond string
		if i < len(d.Steps) {
			cond = d.Steps[i].When
		}
		for _, e := range prev {
			label := e.label
			if cond != "" {
				label = joinLabel(e.label, cond)
			}
			if label != "" {
				fmt.Fprintf(&b, "    %s -->|%s| %s\n", e.from, mq(label), to)
			} else {
				fmt.Fprintf(&b, "    %s --> %s\n", e.from, to)
			}
		}
		if i == len(d.Steps) {
			break
		}
		s := &d.Steps[i]
		if s.Kind == StepApprove {
			for _, a := range s.Rejects() {
				switch a {
				case RejectEnd:
					fmt.Fprintf(&b, "    %s -.->|%s| rejected\n", to, mq("reject"))
				case RejectReturn:
					// The applicant amends and resubmits: back to the start.
					fmt.Fprintf(&b, "    %s -.->|%s| start\n", to, mq("退回修改 / back to applicant"))
				case RejectSendBack:
					// Back to any earlier approve step the request passed.
					for j := 0; j < i; j++ {
						if d.Steps[j].Kind == StepApprove {
							fmt.Fprintf(&b, "    %s -.->|%s| s%d\n", to, mq("退回到此步 / send back"), j)
						}
					}
				}
			}
		}
		next := []edge{{to, ""}}
		if s.Kind == StepApprove {
			next[0].label = "approve"
		}
		if cond != "" {
			for _, e := range prev {
				next = append(next, edge{e.from, joinLabel(e.label, "not "+cond)})
			}
		}
		prev = next
	}
	return b.String()
}

func joinLabel(a, b string) string {
	if a == "" {
		return b
	}
	return a + " · " + b
}

// mq quotes a Mermaid label.
func mq(s string) string {
	return `"` + strings.NewReplacer(`"`, "#quot;", "\n", " ").Replace(s) + `"`
}

func selectorsText(sels []Selector) string {
	parts := make([]string, 0, len(sels))
	for _, s := range sels {
		switch s.Kind {
		case SelManager:
			if s.Level == 1 {
				parts = append(parts, "manager")
			} else {
				parts = append(parts, fmt.Sprintf("manager+%d", s.Level))
			}
		case SelDeptHead:
			parts = append(parts, "dept head")
		default:
			parts = append(parts, string(s.Kind)+" "+s.Value)
		}
	}
	if len(parts) == 0 {
		return "nobody"
	}
	return strings.Join(parts, ", ")
}
