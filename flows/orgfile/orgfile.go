package orgfile

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"regexp"
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

// UserColumns are the columns of a users CSV, in this order.
var UserColumns = []string{"id", "name", "email", "dept", "manager", "roles", "locale", "tz", "feishu", "wecom", "dingtalk", "teams"}

// DepartmentColumns are the columns of a departments CSV, in this order.
var DepartmentColumns = []string{"id", "name", "name_en", "head", "parent"}

func readCSV(name string, src []byte, want []string) ([][]string, Problems) {
	r := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(src, []byte("\xef\xbb\xbf"))))
	r.FieldsPerRecord = -1
	r.TrimLeadingSpace = true
	rows, err := r.ReadAll()
	if err != nil {
		line := 1
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			line = pe.Line
		}
		return nil, Problems{{name, line, "invalid CSV: " + err.Error()}}
	}
	if len(rows) == 0 {
		return nil, Problems{{name, 1, "empty CSV: want the header " + strings.Join(want, ",")}}
	}
	head := rows[0]
	for i := range head {
		head[i] = strings.ToLower(strings.TrimSpace(head[i]))
	}
	if strings.Join(head, ",") != strings.Join(want, ",") {
		return nil, Problems{{name, 1, fmt.Sprintf("header is %q, want %q", strings.Join(head, ","), strings.Join(want, ","))}}
	}
	var probs Problems
	for i, row := range rows[1:] {
		if len(row) != len(want) {
			probs = append(probs, Problem{name, i + 2, fmt.Sprintf("%d columns, want %d", len(row), len(want))})
		}
	}
	return rows[1:], probs
}

func parseUserCSV(name string, src []byte) ([]*flows.User, map[any]int, Problems) {
	rows, probs := readCSV(name, src, UserColumns)
	if len(probs) > 0 {
		return nil, nil, probs
	}
	lines := map[any]int{}
	var users []*flows.User
	for i, row := range rows {
		for j := range row {
			row[j] = strings.TrimSpace(row[j])
		}
		u := &flows.User{ID: row[0], Name: row[1], Email: row[2], Dept: row[3], Manager: row[4], Locale: row[6], TZ: row[7]}
		for _, r := range strings.Split(row[5], ";") {
			if r = strings.TrimSpace(r); r != "" {
				u.Roles = append(u.Roles, r)
			}
		}
		u.Platforms = map[string]string{"web": u.ID}
		for j, p := range []string{"feishu", "wecom", "dingtalk", "teams"} {
			if v := row[8+j]; v != "" {
				u.Platforms[p] = v
			}
		}
		lines[u] = i + 2
		users = append(users, u)
	}
	return users, lines, nil
}

func parseDeptCSV(name string, src []byte) ([]*flows.Department, map[any]int, Problems) {
	rows, probs := readCSV(name, src, DepartmentColumns)
	if len(probs) > 0 {
		return nil, nil, probs
	}
	lines := map[any]int{}
	var depts []*flows.Department
	for i, row := range rows {
		for j := range row {
			row[j] = strings.TrimSpace(row[j])
		}
		d := &flows.Department{ID: row[0], Name: row[1], NameEN: row[2], Head: row[3], Parent: row[4]}
		lines[d] = i + 2
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
