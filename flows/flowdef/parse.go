package flowdef

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

var (
	idRe     = regexp.MustCompile(`^[a-z][a-z0-9_-]*$`)
	prefixRe = regexp.MustCompile(`^[A-Z][A-Z0-9]*$`)
	lineRe   = regexp.MustCompile(`line (\d+)`)
)

// Hash returns the sha256 of a definition's source as lowercase hex.
func Hash(src []byte) string {
	sum := sha256.Sum256(src)
	return hex.EncodeToString(sum[:])
}

// Parse reads and checks one flow definition. On mistakes it returns nil and
// Errors, one *Error per mistake, each with its line.
func Parse(file string, src []byte) (*Definition, error) {
	p := &parser{file: file}
	d := p.parse(src)
	if len(p.errs) > 0 {
		sort.SliceStable(p.errs, func(i, j int) bool {
			if p.errs[i].Line != p.errs[j].Line {
				return p.errs[i].Line < p.errs[j].Line
			}
			return p.errs[i].Col < p.errs[j].Col
		})
		return nil, p.errs
	}
	return d, nil
}

type parser struct {
	file string
	errs Errors
	// selectors naming form fields, checked once the fields are known.
	fieldSels []Selector
}

func (p *parser) errf(n *yaml.Node, format string, args ...any) {
	line, col := 1, 1
	if n != nil && n.Line > 0 {
		line, col = n.Line, n.Column
	}
	p.errs = append(p.errs, &Error{File: p.file, Line: line, Col: col, Msg: fmt.Sprintf(format, args...)})
}

func (p *parser) parse(src []byte) (d *Definition) {
	var doc yaml.Node
	if err := decodeYAML(src, &doc); err != nil {
		line := 1
		if m := lineRe.FindStringSubmatch(err.Error()); m != nil {
			line, _ = strconv.Atoi(m[1])
		}
		p.errs = append(p.errs, &Error{File: p.file, Line: line, Col: 1, Msg: "invalid YAML: " + strings.TrimPrefix(err.Error(), "yaml: ")})
		return nil
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		p.errf(nil, "empty flow definition")
		return nil
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		p.errf(root, "a flow definition must be a mapping of keys (id, name, fields, steps...)")
		return nil
	}
	d = &Definition{Starters: Starters{Everyone: true}, Calendar: CalendarNatural}
	var idNode, stepsNode, fieldsNode, onApprovedNode, balanceNode, cancelNode *yaml.Node
	p.mapping(root, "flow", map[string]func(k, v *yaml.Node){
		"id": func(_, v *yaml.Node) {
			idNode = v
			d.ID = p.str(v, "id")
		},
		"name":        func(_, v *yaml.Node) { d.Name = p.text(v, "name") },
		"description": func(_, v *yaml.Node) { d.Description = p.text(v, "description") },
		"aliases":     func(_, v *yaml.Node) { d.Aliases = p.aliases(v) },
		"number_prefix": func(_, v *yaml.Node) {
			d.NumberPrefix = p.str(v, "number_prefix")
			if d.NumberPrefix != "" && !prefixRe.MatchString(d.NumberPrefix) {
				p.errf(v, "number_prefix %q must be upper-case letters and digits, e.g. LEAVE", d.NumberPrefix)
			}
		},
		"start":        func(_, v *yaml.Node) { d.Starters = p.starters(v) },
		"satisfaction": func(_, v *yaml.Node) { d.Satisfaction = p.boolean(v, "satisfaction") },
		"owner": func(_, v *yaml.Node) {
			d.Owner = strings.TrimSpace(p.str(v, "owner"))
			if d.Owner == "" || strings.ContainsAny(d.Owner, " \t\n") {
				p.errf(v, "owner must be one user id, e.g. owner: ceo")
			}
		},
		"calendar": func(_, v *yaml.Node) {
			switch c := CalendarKind(p.str(v, "calendar")); c {
			case CalendarNatural, CalendarWorking:
				d.Calendar = c
			default:
				p.errf(v, "unknown calendar %q (want calendar or working)", c)
			}
		},
		"deadline": func(_, v *yaml.Node) {
			if dl := p.deadline(v, Deadline{}); dl != nil {
				d.Deadline = *dl
			}
		},
		"on_approved": func(_, v *yaml.Node) { onApprovedNode = v },
		"balance":     func(_, v *yaml.Node) { balanceNode = v },
		"cancel":      func(_, v *yaml.Node) { cancelNode = v },
		"fields":      func(_, v *yaml.Node) { fieldsNode = v },
		"steps":       func(_, v *yaml.Node) { stepsNode = v },
	})
	switch {
	case idNode == nil:
		p.errf(root, "missing id")
	case d.ID != "" && !idRe.MatchString(d.ID):
		p.errf(idNode, "id %q must match ^[a-z][a-z0-9_-]*$ (lower-case letters, digits, - and _)", d.ID)
	}
	if d.Name == (Text{}) {
		d.Name = Text{ZH: d.ID, EN: d.ID}
	}
	if d.NumberPrefix == "" {
		d.NumberPrefix = strings.ToUpper(strings.NewReplacer("-", "", "_", "").Replace(d.ID))
	}
	if fieldsNode != nil {
		d.Fields = p.fields(fieldsNode)
	}
	if onApprovedNode != nil {
		d.OnApproved = p.onApproved(onApprovedNode, d)
	}
	env := compileEnv(d)
	if balanceNode != nil {
		d.Balance = p.balanceRule(balanceNode, d, env)
	}
	if cancelNode != nil {
		d.Cancel = p.cancelRule(cancelNode, d)
	}
	if stepsNode == nil {
		p.errf(root, "no steps: a flow needs at least one step")
	} else {
		d.Steps = p.steps(stepsNode, env, d.Deadline)
	}
	for _, s := range p.fieldSels {
		f := d.Field(s.Value)
		switch {
		case f == nil:
			p.errs = append(p.errs, &Error{File: p.file, Line: s.Line, Col: 1, Msg: fmt.Sprintf("selector field: %q names no field of the form", s.Value)})
		case f.Type != FieldUser:
			p.errs = append(p.errs, &Error{File: p.file, Line: s.Line, Col: 1, Msg: fmt.Sprintf("selector field: %q is a %s field, want a user field", s.Value, f.Type)})
		}
	}
	if idNode != nil {
		d.idLine = idNode.Line
	}
	return d
}

// decodeYAML parses src into a node tree, turning a panic of the YAML
// library on hostile input into an error.
func decodeYAML(src []byte, n *yaml.Node) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("yaml: %v", r)
		}
	}()
	return yaml.Unmarshal(src, n)
}

// mapping calls the handler of each key of n; unknown and repeated keys are
// mistakes.
func (p *parser) mapping(n *yaml.Node, what string, handlers map[string]func(k, v *yaml.Node)) {
	if n.Kind != yaml.MappingNode {
		p.errf(n, "%s must be a mapping of keys", what)
		return
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		h, ok := handlers[k.Value]
		if !ok {
			known := make([]string, 0, len(handlers))
			for key := range handlers {
				known = append(known, key)
			}
			sort.Strings(known)
			p.errf(k, "unknown key %q in %s (known: %s)", k.Value, what, strings.Join(known, ", "))
			continue
		}
		if seen[k.Value] {
			p.errf(k, "key %q given twice in %s", k.Value, what)
			continue
		}
		seen[k.Value] = true
		h(k, v)
	}
}

func (p *parser) str(n *yaml.Node, what string) string {
	if n.Kind != yaml.ScalarNode {
		p.errf(n, "%s must be a single value", what)
		return ""
	}
	return n.Value
}

func (p *parser) boolean(n *yaml.Node, what string) bool {
	var b bool
	if n.Kind != yaml.ScalarNode || n.Decode(&b) != nil {
		p.errf(n, "%s must be true or false, got %q", what, n.Value)
	}
	return b
}

func (p *parser) integer(n *yaml.Node, what string) int {
	i, err := strconv.Atoi(n.Value)
	if n.Kind != yaml.ScalarNode || err != nil {
		p.errf(n, "%s must be a whole number, got %q", what, n.Value)
	}
	return i
}

func (p *parser) number(n *yaml.Node, what string) *float64 {
	f, err := strconv.ParseFloat(n.Value, 64)
	if n.Kind != yaml.ScalarNode || err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		p.errf(n, "%s must be a number, got %q", what, n.Value)
		return nil
	}
	return &f
}

func (p *parser) strings(n *yaml.Node, what string) []string {
	if n.Kind == yaml.ScalarNode && n.Value != "" {
		return []string{n.Value}
	}
	if n.Kind != yaml.SequenceNode {
		p.errf(n, "%s must be a list", what)
		return nil
	}
	var out []string
	for _, c := range n.Content {
		if s := p.str(c, what); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// text reads `{zh: .., en: ..}` or a plain string used for both.
func (p *parser) text(n *yaml.Node, what string) Text {
	if n.Kind == yaml.ScalarNode {
		return Text{ZH: n.Value, EN: n.Value}
	}
	var t Text
	p.mapping(n, what, map[string]func(k, v *yaml.Node){
		"zh": func(_, v *yaml.Node) { t.ZH = p.str(v, what+".zh") },
		"en": func(_, v *yaml.Node) { t.EN = p.str(v, what+".en") },
	})
	return t
}

func (p *parser) aliases(n *yaml.Node) []string {
	out := p.strings(n, "aliases")
	seen := map[string]bool{}
	var uniq []string
	for _, a := range out {
		if strings.ContainsAny(a, " \t\n") || a == "" {
			p.errf(n, "alias %q must be one word", a)
			continue
		}
		if !seen[strings.ToLower(a)] {
			seen[strings.ToLower(a)] = true
			uniq = append(uniq, a)
		}
	}
	return uniq
}

func (p *parser) starters(n *yaml.Node) Starters {
	if n.Kind == yaml.ScalarNode {
		if n.Value != "everyone" {
			p.errf(n, "start must be everyone or a mapping with roles and departments, got %q", n.Value)
		}
		return Starters{Everyone: true}
	}
	var s Starters
	p.mapping(n, "start", map[string]func(k, v *yaml.Node){
		"everyone":    func(_, v *yaml.Node) { s.Everyone = p.boolean(v, "start.everyone") },
		"roles":       func(_, v *yaml.Node) { s.Roles = p.strings(v, "start.roles") },
		"departments": func(_, v *yaml.Node) { s.Departments = p.strings(v, "start.departments") },
	})
	if !s.Everyone && len(s.Roles) == 0 && len(s.Departments) == 0 {
		p.errf(n, "start names nobody: give everyone: true, roles or departments")
	}
	return s
}

// maxDuration bounds every duration of a definition.
const maxDuration = 3650 * 24 * time.Hour

// ParseDuration reads 30m, 8h, 2d, 1d12h, 90s (d = 24h). It is what every
// duration of a definition accepts.
func ParseDuration(s string) (time.Duration, error) {
	in := strings.TrimSpace(s)
	if in == "" {
		return 0, fmt.Errorf("empty duration")
	}
	var total time.Duration
	rest := in
	for rest != "" {
		i := 0
		for i < len(rest) && (rest[i] >= '0' && rest[i] <= '9' || rest[i] == '.') {
			i++
		}
		if i == 0 || i == len(rest) {
			return 0, fmt.Errorf("bad duration %q: want a number and a unit, e.g. 30m, 8h, 2d", in)
		}
		num, err := strconv.ParseFloat(rest[:i], 64)
		if err != nil {
			return 0, fmt.Errorf("bad duration %q: want e.g. 30m, 8h, 2d", in)
		}
		var unit time.Duration
		switch rest[i] {
		case 'd':
			unit = 24 * time.Hour
		case 'h':
			unit = time.Hour
		case 'm':
			unit = time.Minute
		case 's':
			unit = time.Second
		default:
			return 0, fmt.Errorf("bad duration %q: unit must be d, h, m or s", in)
		}
		part := num * float64(unit)
		if part > float64(maxDuration-total) {
			return 0, fmt.Errorf("bad duration %q: longer than 10 years", in)
		}
		total += time.Duration(part)
		rest = rest[i+1:]
	}
	if total <= 0 {
		return 0, fmt.Errorf("bad duration %q: must be positive", in)
	}
	return total, nil
}

func (p *parser) duration(n *yaml.Node, what string) time.Duration {
	if n.Kind != yaml.ScalarNode {
		p.errf(n, "%s must be a duration such as 30m, 8h or 2d", what)
		return 0
	}
	d, err := ParseDuration(n.Value)
	if err != nil {
		p.errf(n, "%s: %v", what, err)
	}
	return d
}

// deadline reads a deadline block; inherit is the flow default a step's
// block is merged with, so that a step may set escalate_to or on_timeout
// alone when the flow gives escalate_after or timeout_after.
func (p *parser) deadline(n *yaml.Node, inherit Deadline) *Deadline {
	var d Deadline
	var escNode, timeoutNode *yaml.Node
	p.mapping(n, "deadline", map[string]func(k, v *yaml.Node){
		"remind_after": func(_, v *yaml.Node) { d.RemindAfter = p.duration(v, "remind_after") },
		"remind_every": func(_, v *yaml.Node) { d.RemindEvery = p.duration(v, "remind_every") },
		"escalate_after": func(_, v *yaml.Node) {
			d.EscalateAfter = p.duration(v, "escalate_after")
		},
		"escalation_decides": func(_, v *yaml.Node) { d.EscalationDecides = p.boolean(v, "escalation_decides") },
		"escalate_to": func(_, v *yaml.Node) {
			escNode = v
			d.EscalateTo = p.selectors(v, "escalate_to")
		},
		"timeout_after": func(_, v *yaml.Node) { d.TimeoutAfter = p.duration(v, "timeout_after") },
		"on_timeout": func(_, v *yaml.Node) {
			timeoutNode = v
			switch a := TimeoutAction(p.str(v, "on_timeout")); a {
			case TimeoutNothing, TimeoutApprove, TimeoutReject:
				d.OnTimeout = a
			default:
				p.errf(v, "unknown on_timeout %q (want none, approve or reject)", a)
			}
		},
	})
	eff := mergeDeadline(inherit, d)
	if escNode != nil && eff.EscalateAfter == 0 {
		p.errf(escNode, "escalate_to without escalate_after")
	}
	if timeoutNode != nil && eff.OnTimeout != TimeoutNothing && eff.OnTimeout != "" && eff.TimeoutAfter == 0 {
		p.errf(timeoutNode, "on_timeout %s without timeout_after", d.OnTimeout)
	}
	return &d
}

var selectorKinds = []string{"user", "role", "manager", "dept_head", "field"}

// selectors reads a list of `- role: hr` style selectors.
func (p *parser) selectors(n *yaml.Node, what string) []Selector {
	if n.Kind != yaml.SequenceNode {
		p.errf(n, "%s must be a list of selectors such as - role: hr", what)
		return nil
	}
	var out []Selector
	for _, c := range n.Content {
		if c.Kind != yaml.MappingNode || len(c.Content) != 2 {
			p.errf(c, "%s: each entry must have exactly one of %s", what, strings.Join(selectorKinds, ", "))
			continue
		}
		k, v := c.Content[0], c.Content[1]
		s := Selector{Kind: SelectorKind(k.Value), Line: k.Line}
		switch s.Kind {
		case SelUser, SelRole, SelField:
			s.Value = p.str(v, what+"."+k.Value)
			if v.Kind == yaml.ScalarNode && strings.TrimSpace(s.Value) == "" {
				p.errf(v, "%s.%s needs a value", what, k.Value)
				continue
			}
			if s.Kind == SelField {
				p.fieldSels = append(p.fieldSels, s)
			}
		case SelManager:
			lvl, err := strconv.Atoi(v.Value)
			s.Level = lvl
			if v.Kind != yaml.ScalarNode || err != nil || lvl < 1 || lvl > 10 {
				p.errf(v, "%s.manager must be a level from 1 (direct manager) to 10, got %q", what, v.Value)
				continue
			}
		case SelDeptHead:
			if !p.boolean(v, what+".dept_head") {
				continue
			}
		default:
			p.errf(k, "unknown approver kind %q in %s (want %s)", k.Value, what, strings.Join(selectorKinds, ", "))
			continue
		}
		out = append(out, s)
	}
	return out
}

var fieldTypes = []FieldType{FieldText, FieldTextarea, FieldNumber, FieldMoney, FieldDate, FieldDateRange, FieldSelect, FieldMultiSelect, FieldUser, FieldBool, FieldFile}

// defaultRef is the reference day a default is checked against.
var defaultRef = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func (p *parser) fields(n *yaml.Node) []Field {
	if n.Kind != yaml.SequenceNode {
		p.errf(n, "fields must be a list")
		return nil
	}
	var out []Field
	seen := map[string]bool{}
	for _, c := range n.Content {
		f := Field{Line: c.Line}
		var idNode, typeNode, defNode, optNode, minNode, patNode, pastNode, countNode, sizeNode, acceptNode *yaml.Node
		p.mapping(c, "field", map[string]func(k, v *yaml.Node){
			"id":       func(_, v *yaml.Node) { idNode = v; f.ID = p.str(v, "field id") },
			"type":     func(_, v *yaml.Node) { typeNode = v; f.Type = FieldType(p.str(v, "field type")) },
			"label":    func(_, v *yaml.Node) { f.Label = p.text(v, "label") },
			"help":     func(_, v *yaml.Node) { f.Help = p.text(v, "help") },
			"required": func(_, v *yaml.Node) { f.Required = p.boolean(v, "required") },
			"min":      func(_, v *yaml.Node) { minNode = v; f.Min = p.number(v, "min") },
			"max":      func(_, v *yaml.Node) { f.Max = p.number(v, "max") },
			"currency": func(_, v *yaml.Node) {
				f.Currency = strings.ToUpper(p.str(v, "currency"))
				if f.Currency != "CNY" && f.Currency != "USD" {
					p.errf(v, "unknown currency %q (want CNY or USD)", f.Currency)
				}
			},
			"options":  func(_, v *yaml.Node) { optNode = v; f.Options = p.options(v) },
			"default":  func(_, v *yaml.Node) { defNode = v },
			"pattern":  func(_, v *yaml.Node) { patNode = v; f.Pattern = p.str(v, "pattern") },
			"not_past": func(_, v *yaml.Node) { pastNode = v; f.NotPast = p.boolean(v, "not_past") },
			"max_size": func(_, v *yaml.Node) { sizeNode = v; f.MaxSize = p.size(v) },
			"accept": func(_, v *yaml.Node) {
				acceptNode = v
				if v.Kind != yaml.SequenceNode {
					p.errf(v, "accept must be a list of content types, e.g. [application/pdf, image/*]")
					return
				}
				for _, c := range v.Content {
					t := p.str(c, "content type")
					if !contentTypeRe.MatchString(t) {
						p.errf(c, "%q is not a content type (e.g. application/pdf or image/*)", t)
					}
					f.Accept = append(f.Accept, t)
				}
			},
			"count": func(_, v *yaml.Node) {
				countNode = v
				f.Count = p.str(v, "count")
				if f.Count != CountWorkdays && f.Count != CountCalendar {
					p.errf(v, "unknown count %q (want %s or %s)", f.Count, CountWorkdays, CountCalendar)
				}
			},
		})
		switch {
		case idNode == nil:
			p.errf(c, "field without id")
		case !idRe.MatchString(f.ID) || strings.Contains(f.ID, "-"):
			p.errf(idNode, "field id %q must match ^[a-z][a-z0-9_]*$ so that conditions can use it", f.ID)
		case f.ID == "applicant":
			p.errf(idNode, "field id applicant is reserved for the applicant in conditions")
		case seen[f.ID]:
			p.errf(idNode, "duplicate field id %q", f.ID)
		}
		seen[f.ID] = true
		if typeNode == nil {
			p.errf(c, "field %s without type (want one of %s)", f.ID, joinTypes())
		} else if !slices.Contains(fieldTypes, f.Type) {
			p.errf(typeNode, "unknown field type %q (want one of %s)", f.Type, joinTypes())
		}
		if f.Label == (Text{}) {
			f.Label = Text{ZH: f.ID, EN: f.ID}
		}
		if f.Type == FieldMoney && f.Currency == "" {
			f.Currency = "CNY"
		}
		if f.Type == FieldSelect || f.Type == FieldMultiSelect {
			if len(f.Options) == 0 {
				at := optNode
				if at == nil {
					at = c
				}
				p.errf(at, "%s field %s without options", f.Type, f.ID)
			}
		} else if optNode != nil {
			p.errf(optNode, "options only apply to select and multiselect fields")
		}
		if patNode != nil {
			if f.Type != FieldText && f.Type != FieldTextarea {
				p.errf(patNode, "pattern only applies to text and textarea fields")
			} else if _, err := regexp.Compile(f.Pattern); err != nil {
				p.errf(patNode, "pattern %q is not a regular expression: %v", f.Pattern, err)
			}
		}
		if (sizeNode != nil || acceptNode != nil) && f.Type != FieldFile {
			at := sizeNode
			if at == nil {
				at = acceptNode
			}
			p.errf(at, "max_size and accept only apply to file fields")
		}
		if f.Type == FieldFile && (f.Min != nil || f.Max != nil || defNode != nil) {
			p.errf(c, "file field %s takes no min, max or default (use max_size and accept)", f.ID)
			defNode = nil
		}
		if countNode != nil && f.Type != FieldDateRange {
			p.errf(countNode, "count only applies to daterange fields")
		}
		if pastNode != nil && f.Type != FieldDate && f.Type != FieldDateRange {
			p.errf(pastNode, "not_past only applies to date and daterange fields")
		}
		if f.Min != nil && f.Max != nil && *f.Min > *f.Max {
			p.errf(minNode, "min %v is greater than max %v", *f.Min, *f.Max)
		}
		if defNode != nil && slices.Contains(fieldTypes, f.Type) {
			f.Default = p.fieldDefault(&f, defNode)
		}
		out = append(out, f)
	}
	return out
}

// contentTypeRe matches a content type or a family of them ("image/*").
var contentTypeRe = regexp.MustCompile(`^[a-z0-9][a-z0-9.+-]*/(\*|[a-z0-9][a-z0-9.+-]*)$`)

// size reads a size in bytes: a number, or a number with KB, MB or GB
// (powers of 1024).
func (p *parser) size(n *yaml.Node) int64 {
	s := strings.ToUpper(strings.TrimSpace(n.Value))
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"KB", 1 << 10}, {"MB", 1 << 20}, {"GB", 1 << 30}, {"B", 1}} {
		if rest, ok := strings.CutSuffix(s, u.suffix); ok {
			s, mult = strings.TrimSpace(rest), u.mult
			break
		}
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil || v <= 0 || v > (1<<40)/mult {
		p.errf(n, "max_size %q is not a size (e.g. 10MB, 512KB or 1048576)", n.Value)
		return 0
	}
	return v * mult
}

func joinTypes() string {
	s := make([]string, len(fieldTypes))
	for i, t := range fieldTypes {
		s[i] = string(t)
	}
	return strings.Join(s, ", ")
}

func (p *parser) options(n *yaml.Node) []Option {
	if n.Kind != yaml.SequenceNode {
		p.errf(n, "options must be a list")
		return nil
	}
	var out []Option
	seen := map[string]bool{}
	for _, c := range n.Content {
		var o Option
		if c.Kind == yaml.ScalarNode {
			o = Option{Value: c.Value, Label: Text{ZH: c.Value, EN: c.Value}}
		} else {
			p.mapping(c, "option", map[string]func(k, v *yaml.Node){
				"value": func(_, v *yaml.Node) { o.Value = p.str(v, "option value") },
				"label": func(_, v *yaml.Node) { o.Label = p.text(v, "option label") },
			})
			if o.Label == (Text{}) {
				o.Label = Text{ZH: o.Value, EN: o.Value}
			}
		}
		if strings.TrimSpace(o.Value) == "" {
			p.errf(c, "option without value")
			continue
		}
		if seen[o.Value] {
			p.errf(c, "duplicate option %q", o.Value)
			continue
		}
		seen[o.Value] = true
		out = append(out, o)
	}
	return out
}

// fieldDefault checks a default the way an applicant's answer is checked.
// Relative dates (today, tomorrow) are kept as written and resolved when a
// form is checked.
func (p *parser) fieldDefault(f *Field, n *yaml.Node) any {
	var raw any
	if err := n.Decode(&raw); err != nil {
		p.errf(n, "default of %s: %v", f.ID, err)
		return nil
	}
	v, err := Normalize(f, raw, defaultRef)
	if err == nil {
		err = checkBounds(f, v)
	}
	if err != nil {
		msg := err.Error()
		var ve *ValueError
		if asValueError(err, &ve) {
			msg = ve.Reason.EN
		}
		p.errf(n, "default not valid for field %s: %s", f.ID, msg)
		return nil
	}
	if s, ok := raw.(string); ok && (f.Type == FieldDate || f.Type == FieldDateRange) && isRelativeDate(s) {
		return s
	}
	return v
}

var stepKinds = []StepKind{StepApprove, StepNotify, StepHTTP}

// rejects reads on_reject: one outcome (end, return), or a list of the
// outcomes the step offers (end, return, send_back), the first being what
// a plain reject does.
func (p *parser) rejects(n *yaml.Node) (RejectAction, []RejectAction) {
	var items []*yaml.Node
	switch n.Kind {
	case yaml.ScalarNode:
		items = []*yaml.Node{n}
	case yaml.SequenceNode:
		items = n.Content
		if len(items) == 0 {
			p.errf(n, "on_reject is an empty list: name at least one of end, return, send_back")
			return RejectEnd, nil
		}
	default:
		p.errf(n, "on_reject must be one of end, return, send_back or a list of them")
		return RejectEnd, nil
	}
	var out []RejectAction
	for _, it := range items {
		a := RejectAction(p.str(it, "on_reject"))
		switch {
		case it.Kind != yaml.ScalarNode:
		case !slices.Contains(RejectActions, a):
			p.errf(it, "unknown on_reject %q (want end, return or send_back)", a)
		case slices.Contains(out, a):
			p.errf(it, "on_reject lists %q twice", a)
		default:
			out = append(out, a)
		}
	}
	if len(out) == 0 {
		return RejectEnd, nil
	}
	return out[0], out[1:]
}

func (p *parser) steps(n *yaml.Node, env map[string]any, flowDeadline Deadline) []Step {
	if n.Kind != yaml.SequenceNode || len(n.Content) == 0 {
		p.errf(n, "no steps: steps must be a non-empty list")
		return nil
	}
	var out []Step
	seen := map[string]bool{}
	for _, c := range n.Content {
		s := Step{Kind: StepApprove, Line: c.Line}
		var idNode, whenNode, approversNode, modeNode, httpNode, fallbackNode, ccNode, emptyNode, rejectNode *yaml.Node
		p.mapping(c, "step", map[string]func(k, v *yaml.Node){
			"id":   func(_, v *yaml.Node) { idNode = v; s.ID = p.str(v, "step id") },
			"name": func(_, v *yaml.Node) { s.Name = p.text(v, "step name") },
			"kind": func(_, v *yaml.Node) {
				s.Kind = StepKind(p.str(v, "kind"))
				if !slices.Contains(stepKinds, s.Kind) {
					p.errf(v, "unknown step kind %q (want approve, notify or http)", s.Kind)
				}
			},
			"when":      func(_, v *yaml.Node) { whenNode = v; s.When = p.str(v, "when") },
			"approvers": func(_, v *yaml.Node) { approversNode = v; s.Approvers = p.selectors(v, "approvers") },
			"mode": func(_, v *yaml.Node) {
				modeNode = v
				s.Mode = Mode(p.str(v, "mode"))
				if s.Mode != ModeAny && s.Mode != ModeAll && s.Mode != ModeSequence {
					p.errf(v, "unknown mode %q (want any, all or sequence)", s.Mode)
				}
			},
			"deadline":  func(_, v *yaml.Node) { s.Deadline = p.deadline(v, flowDeadline) },
			"cc":        func(_, v *yaml.Node) { ccNode = v; s.CC = p.selectors(v, "cc") },
			"on_reject": func(_, v *yaml.Node) { rejectNode = v; s.OnReject, s.OnRejectAlso = p.rejects(v) },
			"on_empty": func(_, v *yaml.Node) {
				emptyNode = v
				s.OnEmpty = EmptyAction(p.str(v, "on_empty"))
				if s.OnEmpty != EmptySkip && s.OnEmpty != EmptyFallback {
					p.errf(v, "unknown on_empty %q (want skip or fallback)", s.OnEmpty)
				}
			},
			"fallback": func(_, v *yaml.Node) { fallbackNode = v; s.Fallback = p.selectors(v, "fallback") },
			"notify":   func(_, v *yaml.Node) { s.Notify = p.text(v, "notify") },
			"http":     func(_, v *yaml.Node) { httpNode = v; s.HTTP = p.http(v) },
		})
		switch {
		case idNode == nil:
			p.errf(c, "step without id")
		case !idRe.MatchString(s.ID):
			p.errf(idNode, "step id %q must match ^[a-z][a-z0-9_-]*$", s.ID)
		case seen[s.ID]:
			p.errf(idNode, "duplicate step id %q", s.ID)
		}
		seen[s.ID] = true
		if s.Name == (Text{}) {
			s.Name = Text{ZH: s.ID, EN: s.ID}
		}
		if s.OnReject == "" {
			s.OnReject = RejectEnd
		}
		if s.OnEmpty == "" {
			s.OnEmpty = EmptySkip
		}
		switch s.Kind {
		case StepApprove:
			if s.Mode == "" {
				s.Mode = ModeAny
			}
			if approversNode == nil {
				p.errf(c, "approve step %s without approvers", s.ID)
			} else if len(s.Approvers) == 0 && approversNode.Kind == yaml.SequenceNode && len(approversNode.Content) == 0 {
				p.errf(approversNode, "approve step %s without approvers", s.ID)
			}
		case StepNotify:
			if ccNode == nil {
				p.errf(c, "notify step %s without cc: say who is notified", s.ID)
			}
		}
		if s.Kind != StepApprove {
			if rejectNode != nil {
				p.errf(rejectNode, "on_reject only applies to approve steps, step %s is %s", s.ID, s.Kind)
			}
			if approversNode != nil {
				p.errf(approversNode, "approvers only apply to approve steps, step %s is %s", s.ID, s.Kind)
			}
			if modeNode != nil {
				p.errf(modeNode, "mode only applies to approve steps, step %s is %s", s.ID, s.Kind)
			}
		}
		if s.Kind == StepHTTP && httpNode == nil {
			p.errf(c, "http step %s without http block (method, url, body)", s.ID)
		}
		if s.Kind != StepHTTP && httpNode != nil {
			p.errf(httpNode, "http only applies to http steps (add kind: http)")
		}
		if s.OnEmpty == EmptyFallback && fallbackNode == nil {
			p.errf(emptyNode, "on_empty fallback without fallback selectors")
		}
		if s.Kind == StepApprove && s.Offers(RejectSendBack) && !slices.ContainsFunc(out, func(x Step) bool { return x.Kind == StepApprove }) {
			p.errf(rejectNode, "step %s offers send_back but no approve step comes before it", s.ID)
		}
		if whenNode != nil && strings.TrimSpace(s.When) != "" {
			prog, err := compileWhen(s.When, env)
			if err != nil {
				p.errf(whenNode, "when %q: %s", s.When, err)
			}
			s.when = prog
		}
		out = append(out, s)
	}
	return out
}

var httpMethods = []string{"GET", "POST", "PUT", "PATCH", "DELETE"}

func (p *parser) http(n *yaml.Node) *HTTPCall {
	c := &HTTPCall{Method: "POST", Timeout: 10 * time.Second, Retries: 2, OnFailure: "fail"}
	var urlNode, timeoutNode, retriesNode *yaml.Node
	p.mapping(n, "http", map[string]func(k, v *yaml.Node){
		"method": func(_, v *yaml.Node) {
			c.Method = strings.ToUpper(p.str(v, "method"))
			if !slices.Contains(httpMethods, c.Method) {
				p.errf(v, "bad http method %q (want %s)", v.Value, strings.Join(httpMethods, ", "))
			}
		},
		"url": func(_, v *yaml.Node) { urlNode = v; c.URL = p.str(v, "url") },
		"headers": func(_, v *yaml.Node) {
			if v.Kind != yaml.MappingNode {
				p.errf(v, "headers must be a mapping of name: value")
				return
			}
			c.Headers = map[string]string{}
			for i := 0; i+1 < len(v.Content); i += 2 {
				c.Headers[v.Content[i].Value] = p.str(v.Content[i+1], "header "+v.Content[i].Value)
			}
		},
		"body": func(_, v *yaml.Node) {
			c.Body = p.str(v, "body")
			if _, err := parseTemplate("body", c.Body); err != nil {
				p.errf(v, "body template does not parse: %v", err)
			}
		},
		"timeout": func(_, v *yaml.Node) { timeoutNode = v; c.Timeout = p.duration(v, "timeout") },
		"retries": func(_, v *yaml.Node) {
			retriesNode = v
			c.Retries = p.integer(v, "retries")
			if c.Retries < 0 || c.Retries > 10 {
				p.errf(v, "retries must be from 0 to 10, got %q", v.Value)
			}
		},
		"on_failure": func(_, v *yaml.Node) {
			c.OnFailure = p.str(v, "on_failure")
			if c.OnFailure != "fail" && c.OnFailure != "continue" {
				p.errf(v, "unknown on_failure %q (want fail or continue)", c.OnFailure)
			}
		},
	})
	if c.Timeout > 0 && c.Retries >= 0 && c.Retries <= 10 && c.WorstCase() > MaxHTTPWorstCase {
		worst := c.WorstCase()
		at := n
		switch {
		case timeoutNode != nil:
			at = timeoutNode
		case retriesNode != nil:
			at = retriesNode
		}
		p.errf(at, "http step takes up to %s in the worst case (timeout %s × %d attempts + %s of waits between them), "+
			"more than the limit of %s: the call runs inside the notifier's delivery lease (1 minute, finished within 45s) "+
			"and would be handed to a second worker while still running; lower timeout or retries",
			worst, c.Timeout, c.Retries+1, worst-c.Timeout*time.Duration(c.Retries+1), MaxHTTPWorstCase)
	}
	switch {
	case urlNode == nil || strings.TrimSpace(c.URL) == "":
		p.errf(n, "http step without url")
	default:
		if _, err := parseTemplate("url", c.URL); err != nil {
			p.errf(urlNode, "url template does not parse: %v", err)
		} else if !strings.Contains(c.URL, "{{") {
			u, err := url.Parse(c.URL)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				p.errf(urlNode, "url %q must be an absolute http:// or https:// address", c.URL)
			}
		}
	}
	return c
}

// onApproved parses on_approved: {delegate_field: backup, period_field: dates}.
func (p *parser) onApproved(n *yaml.Node, d *Definition) OnApproved {
	var oa OnApproved
	var dfNode, pfNode *yaml.Node
	p.mapping(n, "on_approved", map[string]func(k, v *yaml.Node){
		"delegate_field": func(_, v *yaml.Node) { dfNode, oa.DelegateField = v, p.str(v, "delegate_field") },
		"period_field":   func(_, v *yaml.Node) { pfNode, oa.PeriodField = v, p.str(v, "period_field") },
		"cancel_field":   func(_, v *yaml.Node) { oa.CancelField = p.cancelField(v, d) },
	})
	if oa.DelegateField == "" {
		if pfNode != nil {
			p.errf(pfNode, "on_approved: period_field needs delegate_field")
		}
		return oa
	}
	switch f := d.Field(oa.DelegateField); {
	case f == nil:
		p.errf(dfNode, "on_approved: delegate_field %q names no field of the form", oa.DelegateField)
	case f.Type != FieldUser:
		p.errf(dfNode, "on_approved: delegate_field %q is a %s field, want a user field", oa.DelegateField, f.Type)
	}
	if oa.PeriodField == "" {
		for _, f := range d.Fields {
			if f.Type == FieldDateRange {
				oa.PeriodField = f.ID
				break
			}
		}
		if oa.PeriodField == "" {
			p.errf(n, "on_approved: delegate_field needs a daterange field for the period (period_field)")
		}
		return oa
	}
	switch f := d.Field(oa.PeriodField); {
	case f == nil:
		p.errf(pfNode, "on_approved: period_field %q names no field of the form", oa.PeriodField)
	case f.Type != FieldDateRange && f.Type != FieldDate:
		p.errf(pfNode, "on_approved: period_field %q is a %s field, want a daterange or date field", oa.PeriodField, f.Type)
	}
	return oa
}
