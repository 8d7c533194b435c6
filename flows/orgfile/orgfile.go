package orgfile

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"net/mail"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/flowbot/flowbot/flows"
)

// Problem is one bad row or entry of an organisation file.
type Problem struct {
	File string
	Line int // line of a YAML entry or CSV row (header = 1)
	Msg  string
}

func (p Problem) String() string { return fmt.Sprintf("%s:%d: %s", p.File, p.Line, p.Msg) }

// Problems is every mistake of an organisation file, one per line.
type Problems []Problem

func (ps Problems) Error() string {
	lines := make([]string, len(ps))
	for i, p := range ps {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

var (
	idRe     = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.@-]*$`)
	localeRe = regexp.MustCompile(`^(zh|en)([-_][A-Za-z]{2,4})?$`)
)

// Parse reads an organisation file: YAML (.yaml, .yml) with `departments:`
// and `users:` lists, a users CSV (.csv), or a departments CSV (a .csv whose
// name contains "departments"). Nothing is returned unless the whole file
// is valid; the error lists every bad entry with its line.
func Parse(name string, src []byte) ([]*flows.User, []*flows.Department, error) {
	var (
		users []*flows.User
		depts []*flows.Department
		lines map[any]int
		probs Problems
	)
	lower := strings.ToLower(filepath.Base(name))
	switch {
	case strings.HasSuffix(lower, ".yaml") || strings.HasSuffix(lower, ".yml"):
		users, depts, lines, probs = parseYAML(name, src)
	case strings.HasSuffix(lower, ".csv") && strings.Contains(lower, "department"):
		depts, lines, probs = parseDeptCSV(name, src)
	case strings.HasSuffix(lower, ".csv"):
		users, lines, probs = parseUserCSV(name, src)
	default:
		return nil, nil, fmt.Errorf("parse org file %s: unknown format (want .yaml, .yml or .csv)", name)
	}
	if len(probs) == 0 {
		probs = Validate(name, users, depts, lines)
	}
	if len(probs) > 0 {
		sort.SliceStable(probs, func(i, j int) bool { return probs[i].Line < probs[j].Line })
		return nil, nil, probs
	}
	return users, depts, nil
}

func parseYAML(name string, src []byte) (users []*flows.User, depts []*flows.Department, lines map[any]int, probs Problems) {
	defer func() {
		if r := recover(); r != nil {
			users, depts, probs = nil, nil, Problems{{File: name, Line: 1, Msg: fmt.Sprintf("invalid YAML: %v", r)}}
		}
	}()
	lines = map[any]int{}
	var doc struct {
		Departments []yaml.Node `yaml:"departments"`
		Users       []yaml.Node `yaml:"users"`
		Balances    []yaml.Node `yaml:"balances"` // read by Balances
	}
	dec := yaml.NewDecoder(bytes.NewReader(src))
	dec.KnownFields(true)
	if err := dec.Decode(&doc); err != nil && !errors.Is(err, io.EOF) {
		return nil, nil, nil, Problems{{File: name, Line: yamlLine(err), Msg: "invalid YAML: " + strings.TrimPrefix(err.Error(), "yaml: ")}}
	}
	for i := range doc.Departments {
		n := &doc.Departments[i]
		var d flows.Department
		if err := decodeStrict(n, &d); err != nil {
			probs = append(probs, Problem{name, n.Line, "department: " + err.Error()})
			continue
		}
		lines[&d] = n.Line
		depts = append(depts, &d)
	}
	for i := range doc.Users {
		n := &doc.Users[i]
		var u flows.User
		if err := decodeStrict(n, &u); err != nil {
			probs = append(probs, Problem{name, n.Line, "user: " + err.Error()})
			continue
		}
		if u.Platforms == nil {
			u.Platforms = map[string]string{}
		}
		if _, ok := u.Platforms["web"]; !ok && u.ID != "" {
			u.Platforms["web"] = u.ID
		}
		lines[&u] = n.Line
		users = append(users, &u)
	}
	return users, depts, lines, probs
}

// decodeStrict decodes one node, refusing unknown keys.
func decodeStrict(n *yaml.Node, into any) error {
	out, err := yaml.Marshal(n)
	if err != nil {
		return err
	}
	dec := yaml.NewDecoder(bytes.NewReader(out))
	dec.KnownFields(true)
	if err := dec.Decode(into); err != nil {
		// Line numbers inside the re-encoded entry would mislead: the
		// caller adds the entry's own line.
		var te *yaml.TypeError
		if errors.As(err, &te) {
			msgs := make([]string, len(te.Errors))
			for i, m := range te.Errors {
				msgs[i] = yamlLineRe.ReplaceAllString(m, "")
				msgs[i] = strings.TrimPrefix(msgs[i], ": ")
			}
			return errors.New(strings.Join(msgs, "; "))
		}
		return errors.New(strings.TrimPrefix(err.Error(), "yaml: "))
	}
	return nil
}

var yamlLineRe = regexp.MustCompile(`line (\d+)`)

func yamlLine(err error) int {
	if m := yamlLineRe.FindStringSubmatch(err.Error()); m != nil {
		var n int
		fmt.Sscan(m[1], &n)
		return n
	}
	return 1
}

// UserColumns are the columns of a users CSV, found by header name in any
// order; columns with other names (e.g. of an Excel export) are ignored.
var UserColumns = []string{"id", "name", "email", "dept", "manager", "roles", "locale", "tz", "feishu", "wecom", "dingtalk", "teams"}

// RequiredUserColumns must be in the header of a users CSV.
var RequiredUserColumns = []string{"id", "name"}

// DepartmentColumns are the columns of a departments CSV, found by header
// name like UserColumns.
var DepartmentColumns = []string{"id", "name", "name_en", "head", "parent"}

// RequiredDepartmentColumns must be in the header of a departments CSV.
var RequiredDepartmentColumns = []string{"id", "name"}

// csvRow is one data row of a CSV with its cells by known column name.
type csvRow struct {
	line  int
	cells map[string]string
}

// readCSV reads a CSV whose header names its columns. Known columns are
// found by name (case and spaces ignored), unknown ones are ignored, a
// missing required one or a known one given twice is a mistake.
func readCSV(name string, src []byte, known, required []string) ([]csvRow, Problems) {
	r := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(src, []byte("\xef\xbb\xbf"))))
	r.FieldsPerRecord = -1
	r.TrimLeadingSpace = true
	var recs [][]string
	var lines []int
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			line := 1
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				line = pe.Line
			}
			return nil, Problems{{name, line, "invalid CSV: " + err.Error()}}
		}
		line, _ := r.FieldPos(0)
		recs = append(recs, rec)
		lines = append(lines, line)
	}
	if len(recs) == 0 {
		return nil, Problems{{name, 1, "empty CSV: want a header with at least " + strings.Join(required, ",") + " (known columns: " + strings.Join(known, ",") + ")"}}
	}
	col := map[string]int{}
	var probs Problems
	for i, h := range recs[0] {
		h = strings.ToLower(strings.TrimSpace(h))
		if !slices.Contains(known, h) {
			continue // an extra column: ignored
		}
		if _, dup := col[h]; dup {
			probs = append(probs, Problem{name, lines[0], fmt.Sprintf("column %q given twice in the header", h)})
			continue
		}
		col[h] = i
	}
	for _, h := range required {
		if _, ok := col[h]; !ok {
			probs = append(probs, Problem{name, lines[0], fmt.Sprintf("header has no column %q (header is %q; known columns: %s)", h, strings.Join(recs[0], ","), strings.Join(known, ","))})
		}
	}
	if len(probs) > 0 {
		return nil, probs
	}
	rows := make([]csvRow, 0, len(recs)-1)
	for i, rec := range recs[1:] {
		line := lines[i+1]
		if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
			continue // a blank line
		}
		if len(rec) != len(recs[0]) {
			probs = append(probs, Problem{name, line, fmt.Sprintf("%d columns, want %d as in the header", len(rec), len(recs[0]))})
			continue
		}
		cells := make(map[string]string, len(col))
		for h, j := range col {
			cells[h] = strings.TrimSpace(rec[j])
		}
		rows = append(rows, csvRow{line: line, cells: cells})
	}
	return rows, probs
}

func parseUserCSV(name string, src []byte) ([]*flows.User, map[any]int, Problems) {
	rows, probs := readCSV(name, src, UserColumns, RequiredUserColumns)
	if len(probs) > 0 {
		return nil, nil, probs
	}
	lines := map[any]int{}
	var users []*flows.User
	for _, row := range rows {
		c := row.cells
		u := &flows.User{ID: c["id"], Name: c["name"], Email: c["email"], Dept: c["dept"], Manager: c["manager"], Locale: c["locale"], TZ: c["tz"]}
		for _, r := range strings.Split(c["roles"], ";") {
			if r = strings.TrimSpace(r); r != "" {
				u.Roles = append(u.Roles, r)
			}
		}
		u.Platforms = map[string]string{"web": u.ID}
		for _, p := range []string{"feishu", "wecom", "dingtalk", "teams"} {
			if v := c[p]; v != "" {
				u.Platforms[p] = v
			}
		}
		lines[u] = row.line
		users = append(users, u)
	}
	return users, lines, nil
}

func parseDeptCSV(name string, src []byte) ([]*flows.Department, map[any]int, Problems) {
	rows, probs := readCSV(name, src, DepartmentColumns, RequiredDepartmentColumns)
	if len(probs) > 0 {
		return nil, nil, probs
	}
	lines := map[any]int{}
	var depts []*flows.Department
	for _, row := range rows {
		c := row.cells
		d := &flows.Department{ID: c["id"], Name: c["name"], NameEN: c["name_en"], Head: c["head"], Parent: c["parent"]}
		lines[d] = row.line
		depts = append(depts, d)
	}
	return depts, lines, nil
}

// Validate checks users and departments together: ids, names, references
// (department, manager, head, parent), cycles, duplicate platform ids,
// locales and time zones. Users may be nil to check departments alone and
// departments nil to check users alone (their dept is then not checked).
// lines maps each *User or *Department to its line for the messages.
func Validate(name string, users []*flows.User, depts []*flows.Department, lines map[any]int) Problems {
	var probs Problems
	at := func(x any) int { return lines[x] }
	add := func(x any, format string, args ...any) {
		probs = append(probs, Problem{name, at(x), fmt.Sprintf(format, args...)})
	}
	deptByID := map[string]*flows.Department{}
	for _, d := range depts {
		switch {
		case d.ID == "":
			add(d, "department without id")
			continue
		case !idRe.MatchString(d.ID):
			add(d, "department id %q has spaces or symbols", d.ID)
		case deptByID[d.ID] != nil:
			add(d, "duplicate department id %q (first at line %d)", d.ID, at(deptByID[d.ID]))
			continue
		}
		if d.Name == "" {
			add(d, "department %s without name", d.ID)
		}
		deptByID[d.ID] = d
	}
	userByID := map[string]*flows.User{}
	for _, u := range users {
		switch {
		case u.ID == "":
			add(u, "user without id")
			continue
		case !idRe.MatchString(u.ID):
			add(u, "user id %q has spaces or symbols", u.ID)
		case userByID[u.ID] != nil:
			add(u, "duplicate user id %q (first at line %d)", u.ID, at(userByID[u.ID]))
			continue
		}
		if u.Name == "" {
			add(u, "user %s without name", u.ID)
		}
		userByID[u.ID] = u
	}
	for _, d := range depts {
		if d.ID == "" || deptByID[d.ID] != d {
			continue
		}
		if d.Head != "" && users != nil && userByID[d.Head] == nil {
			add(d, "department %s: head %q is not a known user", d.ID, d.Head)
		}
		if d.Parent != "" && deptByID[d.Parent] == nil {
			add(d, "department %s: parent %q is not a known department", d.ID, d.Parent)
		}
		// Walk up the parents; coming back to d is a cycle.
		seen := map[string]bool{d.ID: true}
		for p := deptByID[d.Parent]; p != nil; p = deptByID[p.Parent] {
			if seen[p.ID] {
				if p.ID == d.ID {
					add(d, "department %s: parent cycle", d.ID)
				}
				break
			}
			seen[p.ID] = true
		}
	}
	platformOwner := map[string]*flows.User{}
	for _, u := range users {
		if u.ID == "" || userByID[u.ID] != u {
			continue
		}
		if u.Dept != "" && depts != nil && deptByID[u.Dept] == nil {
			add(u, "user %s: unknown department %q", u.ID, u.Dept)
		}
		if u.Manager != "" {
			if userByID[u.Manager] == nil {
				add(u, "user %s: unknown manager %q", u.ID, u.Manager)
			} else {
				seen := map[string]bool{u.ID: true}
				for m := userByID[u.Manager]; m != nil; m = userByID[m.Manager] {
					if seen[m.ID] {
						if m.ID == u.ID {
							add(u, "user %s: cycle in the manager chain", u.ID)
						}
						break
					}
					seen[m.ID] = true
				}
			}
		}
		if u.Email != "" && !validEmail(u.Email) {
			add(u, "user %s: bad email address %q (want e.g. lilei@example.com)", u.ID, u.Email)
		}
		if u.Locale != "" && !localeRe.MatchString(u.Locale) {
			add(u, "user %s: bad locale %q (want zh-CN or en)", u.ID, u.Locale)
		}
		if u.TZ != "" {
			if _, err := time.LoadLocation(u.TZ); err != nil || u.TZ == "Local" {
				add(u, "user %s: unknown time zone %q (want an IANA name such as Asia/Shanghai)", u.ID, u.TZ)
			}
		}
		plats := make([]string, 0, len(u.Platforms))
		for p := range u.Platforms {
			plats = append(plats, p)
		}
		sort.Strings(plats)
		for _, p := range plats {
			pid := u.Platforms[p]
			if pid == "" {
				add(u, "user %s: empty %s id", u.ID, p)
				continue
			}
			key := p + "\x00" + pid
			if other := platformOwner[key]; other != nil {
				add(u, "user %s: %s id %q is already used by %s", u.ID, p, pid, other.ID)
				continue
			}
			platformOwner[key] = u
		}
	}
	return probs
}

// validEmail accepts a bare address such as lilei@example.com: one @, a
// local part and a domain with a dot, no display name, no spaces.
func validEmail(s string) bool {
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || a.Name != "" {
		return false
	}
	local, domain, ok := strings.Cut(s, "@")
	return ok && local != "" && strings.Contains(domain, ".") && !strings.HasPrefix(domain, ".") &&
		!strings.HasSuffix(domain, ".") && !strings.ContainsAny(s, " \t<>")
}

// Balances reads the `balances:` list of a YAML organisation file (none
// in a CSV file):
//
//	balances:
//	  - {user: lilei, type: annual, total: 10}            # this year
//	  - {user: lilei, type: annual, year: 2027, total: 12, used: 0}
//
// year defaults to the year of now; used, when absent, keeps the days
// already taken. known lists the user ids the balances may name (the
// file's users, or the directory's). Nothing is returned unless every
// entry is valid; the error lists every bad entry with its line.
func Balances(name string, src []byte, known []*flows.User, now time.Time) ([]flows.BalanceUpdate, error) {
	lower := strings.ToLower(filepath.Base(name))
	if !strings.HasSuffix(lower, ".yaml") && !strings.HasSuffix(lower, ".yml") {
		return nil, nil
	}
	var doc struct {
		Balances []yaml.Node `yaml:"balances"`
	}
	if err := decodeYAMLLoose(src, &doc); err != nil {
		return nil, Problems{{File: name, Line: yamlLine(err), Msg: "invalid YAML: " + strings.TrimPrefix(err.Error(), "yaml: ")}}
	}
	users := map[string]bool{}
	for _, u := range known {
		users[u.ID] = true
	}
	type entry struct {
		User  string   `yaml:"user"`
		Type  string   `yaml:"type"`
		Year  int      `yaml:"year"`
		Total *float64 `yaml:"total"`
		Used  *float64 `yaml:"used"`
	}
	var out []flows.BalanceUpdate
	var probs Problems
	seen := map[string]int{}
	for i := range doc.Balances {
		n := &doc.Balances[i]
		var e entry
		if err := decodeStrict(n, &e); err != nil {
			probs = append(probs, Problem{name, n.Line, "balance: " + err.Error()})
			continue
		}
		if e.Year == 0 {
			e.Year = now.Year()
		}
		if e.Total == nil {
			probs = append(probs, Problem{name, n.Line, "balance: total (days granted) is missing"})
			continue
		}
		u := flows.BalanceUpdate{User: e.User, Type: e.Type, Year: e.Year, Total: *e.Total, Used: e.Used}
		if err := flows.CheckBalanceUpdate(u); err != nil {
			var fe *flows.Error
			if errors.As(err, &fe) {
				err = errors.New(fe.Message("en"))
			}
			probs = append(probs, Problem{name, n.Line, "balance: " + err.Error()})
			continue
		}
		if !users[u.User] {
			probs = append(probs, Problem{name, n.Line, fmt.Sprintf("balance: user %q is not in the directory", u.User)})
			continue
		}
		key := fmt.Sprintf("%s/%s/%d", u.User, u.Type, u.Year)
		if l, dup := seen[key]; dup {
			probs = append(probs, Problem{name, n.Line, fmt.Sprintf("balance: %s given twice (first on line %d)", key, l)})
			continue
		}
		seen[key] = n.Line
		out = append(out, u)
	}
	if len(probs) > 0 {
		return nil, probs
	}
	return out, nil
}

// decodeYAMLLoose decodes src into doc ignoring other keys, turning a
// panic of the YAML library into an error.
func decodeYAMLLoose(src []byte, doc any) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("yaml: %v", r)
		}
	}()
	if err := yaml.Unmarshal(src, doc); err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	return nil
}
