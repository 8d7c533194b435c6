package dirsync

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	"github.com/flowbot/flowbot/flows"
)

// Plan is the outcome of merging the sources into the directory: the
// whole new directory and what differs from the current one.
type Plan struct {
	Users     []*flows.User
	Depts     []*flows.Department
	Changes   []Change
	Conflicts []Conflict
	// Departed are the users who left with this sync (ids, sorted).
	Departed []string
	// Unmapped are the departments of platforms with a department mapping
	// that the mapping does not name: kept as the platform's own
	// department (DeptID), reported, never matched by name.
	Unmapped []Unmapped

	snaps []*Snapshot // the listings merged (set by Syncer.Plan)
}

// Change is one difference between the current directory and the plan.
type Change struct {
	Op     string // "+" added, "~" changed, "-" departed (users) or removed (departments)
	Kind   string // "user" or "dept"
	ID     string
	Name   string
	Fields []FieldChange
}

// FieldChange is one field of a changed entry.
type FieldChange struct {
	Field, Old, New string
}

// Unmapped is a platform department the department mapping leaves out.
type Unmapped struct {
	Platform, Dept, Name string
}

// Conflict is an account the sync could not place: reported, left out.
type Conflict struct {
	Platform string
	Account  string
	Name     string
	Reason   string
}

// Format writes the plan, one line per change and conflict, in a stable
// order: what `flowbot directory sync --dry-run` prints.
func (p *Plan) Format(w io.Writer) error {
	var b strings.Builder
	for _, c := range p.Changes {
		fmt.Fprintf(&b, "%s %s %s", c.Op, c.Kind, c.ID)
		if c.Name != "" {
			fmt.Fprintf(&b, " (%s)", c.Name)
		}
		if c.Op == "-" && c.Kind == "user" {
			b.WriteString(" departed")
		}
		if c.Op == "-" && c.Kind == "dept" {
			b.WriteString(" removed")
		}
		for i, f := range c.Fields {
			sep := "; "
			if i == 0 {
				sep = ": "
			}
			if c.Op == "+" {
				fmt.Fprintf(&b, "%s%s=%q", sep, f.Field, f.New)
			} else {
				fmt.Fprintf(&b, "%s%s %q -> %q", sep, f.Field, f.Old, f.New)
			}
		}
		b.WriteByte('\n')
	}
	for _, c := range p.Conflicts {
		fmt.Fprintf(&b, "! conflict %s:%s (%s): %s\n", c.Platform, c.Account, c.Name, c.Reason)
	}
	for _, u := range p.Unmapped {
		fmt.Fprintf(&b, "? unmapped department %s:%s (%s): kept as %s\n", u.Platform, u.Dept, u.Name, DeptID(u.Platform, u.Dept))
	}
	fmt.Fprintf(&b, "%d changes, %d conflicts, %d departed\n", len(p.Changes), len(p.Conflicts), len(p.Departed))
	_, err := io.WriteString(w, b.String())
	return err
}

// UserID is the directory id given to a new account: the platform key and
// the account id, with characters outside [A-Za-z0-9_.@-] replaced.
func UserID(platform, account string) string { return cleanID(platform + "-" + account) }

// DeptID is the directory id of a platform's department.
func DeptID(platform, dept string) string { return cleanID(platform + "-" + dept) }

func cleanID(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '_', r == '.', r == '@', r == '-':
			return r
		}
		return '_'
	}, s)
}

func emailKey(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// mobileKey keeps the digits of a phone number, without a leading 86
// country code on an 11-digit Chinese mobile.
func mobileKey(s string) string {
	d := strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, s)
	if len(d) == 13 && strings.HasPrefix(d, "86") {
		d = d[2:]
	}
	return d
}

type account struct{ platform, id string }

type merger struct {
	users   map[string]*flows.User
	old     map[string]*flows.User
	link    map[account]string
	email   map[string][]string
	mobile  map[string][]string
	claimed map[string]map[string]string // user -> platform -> account
	kept    map[string]map[string]string // links kept although their account conflicted
	primary map[string]Person
	primPl  map[string]string
	owner   map[account]string // account -> user, this run
	deptMap map[string]string  // "platform:dept" -> directory department
	plan    *Plan
}

// Mapping links platform accounts and departments to the directory by
// hand.
type Mapping struct {
	// Users maps "platform:account" to a user id; it wins over email and
	// mobile matching.
	Users map[string]string
	// Depts maps "platform:department" to a directory department id: the
	// platform departments of one unit on several platforms become that
	// one department (its name and parent stay the directory's, unless a
	// mapped parent says otherwise; its head is the first head the
	// platforms name, in source order, none if none does).
	// Departments of a platform with at least one entry that have none
	// are reported (Plan.Unmapped), never matched by name.
	Depts map[string]string
}

// deptOf is the directory department of a platform's department.
func (m *merger) deptOf(platform, dept string) string {
	if id := m.deptMap[platform+":"+dept]; id != "" {
		return id
	}
	return DeptID(platform, dept)
}

// Merge computes the directory the snapshots describe from the current
// users and departments, with mapping linking accounts by hand. It changes
// none of its arguments.
func Merge(users []*flows.User, depts []*flows.Department, snaps []*Snapshot, mapping map[string]string) *Plan {
	return MergeMapped(users, depts, snaps, Mapping{Users: mapping})
}

// MergeMapped is Merge with accounts and departments mapped by hand.
func MergeMapped(users []*flows.User, depts []*flows.Department, snaps []*Snapshot, mp Mapping) *Plan {
	mapping := mp.Users
	m := &merger{
		deptMap: mp.Depts,
		users:   map[string]*flows.User{}, old: map[string]*flows.User{}, link: map[account]string{},
		email: map[string][]string{}, mobile: map[string][]string{},
		claimed: map[string]map[string]string{}, kept: map[string]map[string]string{},
		primary: map[string]Person{}, primPl: map[string]string{}, owner: map[account]string{},
		plan: &Plan{},
	}
	for _, u := range users {
		c := clone(u)
		m.old[u.ID], m.users[u.ID] = u, c
		for p, id := range c.Platforms {
			m.link[account{p, id}] = c.ID
		}
		m.index(c)
	}
	synced := map[string]bool{}
	active := map[account]bool{}
	for _, s := range snaps {
		synced[s.Platform] = true
		for _, p := range s.People {
			if p.Active {
				active[account{s.Platform, p.ID}] = true
			}
		}
	}
	for _, s := range snaps {
		people := slices.Clone(s.People)
		// Sources that list users per department see a person once per
		// department: the first sighting counts.
		slices.SortStableFunc(people, func(a, b Person) int { return strings.Compare(a.ID, b.ID) })
		people = slices.CompactFunc(people, func(a, b Person) bool { return a.ID == b.ID })
		for _, p := range people {
			if p.Active && p.ID != "" {
				m.place(s.Platform, p, mapping, active)
			}
		}
	}
	m.finishUsers(synced)
	m.mergeDepts(depts, snaps, synced)
	m.diff()
	return m.plan
}

func clone(u *flows.User) *flows.User {
	c := *u
	c.Roles = slices.Clone(u.Roles)
	c.Platforms = maps.Clone(u.Platforms)
	return &c
}

func (m *merger) index(u *flows.User) {
	if k := emailKey(u.Email); k != "" && !slices.Contains(m.email[k], u.ID) {
		m.email[k] = append(m.email[k], u.ID)
	}
	if k := mobileKey(u.Mobile); k != "" && !slices.Contains(m.mobile[k], u.ID) {
		m.mobile[k] = append(m.mobile[k], u.ID)
	}
}

// place finds or creates the user of account p on platform, or reports a
// conflict.
func (m *merger) place(platform string, p Person, mapping map[string]string, active map[account]bool) {
	acc := account{platform, p.ID}
	reasons := map[string][]string{} // candidate user -> why
	if id, ok := mapping[platform+":"+p.ID]; ok && id != "" {
		reasons[id] = append(reasons[id], "mapping")
	} else {
		if id := m.link[acc]; id != "" {
			reasons[id] = append(reasons[id], "linked")
		}
		for _, id := range m.email[emailKey(p.Email)] {
			if emailKey(p.Email) != "" {
				reasons[id] = append(reasons[id], "email "+p.Email)
			}
		}
		for _, id := range m.mobile[mobileKey(p.Mobile)] {
			if mobileKey(p.Mobile) != "" {
				reasons[id] = append(reasons[id], "mobile "+p.Mobile)
			}
		}
	}
	conflict := func(reason string) {
		m.plan.Conflicts = append(m.plan.Conflicts, Conflict{Platform: platform, Account: p.ID, Name: p.Name, Reason: reason})
		if id := m.link[acc]; id != "" {
			if m.kept[id] == nil {
				m.kept[id] = map[string]string{}
			}
			m.kept[id][platform] = p.ID
		}
	}
	if len(reasons) > 1 {
		var parts []string
		for _, id := range slices.Sorted(maps.Keys(reasons)) {
			parts = append(parts, strings.Join(reasons[id], ", ")+" -> "+id)
		}
		conflict("matches several users: " + strings.Join(parts, "; "))
		return
	}
	var uid string
	for id := range reasons {
		uid = id
	}
	u := m.users[uid]
	if u == nil {
		if uid == "" {
			uid = UserID(platform, p.ID)
		}
		if m.users[uid] != nil {
			conflict("new user id " + uid + " is taken")
			return
		}
		u = &flows.User{ID: uid}
		m.users[uid] = u
	}
	if other := m.claimed[uid][platform]; other != "" {
		conflict(fmt.Sprintf("user %s already has %s account %s", uid, platform, other))
		return
	}
	if cur := u.Platforms[platform]; cur != "" && cur != p.ID && active[account{platform, cur}] {
		conflict(fmt.Sprintf("user %s is linked to %s account %s, which still exists", uid, platform, cur))
		return
	}
	if m.claimed[uid] == nil {
		m.claimed[uid] = map[string]string{}
	}
	m.claimed[uid][platform] = p.ID
	m.owner[acc] = uid
	if _, ok := m.primary[uid]; !ok {
		m.primary[uid], m.primPl[uid] = p, platform
	}
	// Later sources match this person by what the first one told.
	probe := &flows.User{ID: uid, Email: p.Email, Mobile: p.Mobile}
	m.index(probe)
}

// finishUsers links the placed accounts, copies the primary account's
// fields and departs the managed users nobody claimed.
func (m *merger) finishUsers(synced map[string]bool) {
	for _, id := range slices.Sorted(maps.Keys(m.users)) {
		u := m.users[id]
		managed := false
		for p := range u.Platforms {
			if synced[p] {
				managed = true
			}
		}
		claims := m.claimed[id]
		if len(claims) == 0 && len(m.kept[id]) == 0 {
			if managed {
				u.Departed = true
				u.Platforms = nil
				m.plan.Departed = append(m.plan.Departed, id)
			}
			continue
		}
		for p := range u.Platforms {
			if synced[p] && claims[p] == "" && m.kept[id][p] == "" {
				delete(u.Platforms, p)
			}
		}
		if u.Platforms == nil {
			u.Platforms = map[string]string{}
		}
		maps.Copy(u.Platforms, claims)
		u.Departed = false
		pr, ok := m.primary[id]
		if !ok {
			continue
		}
		pl := m.primPl[id]
		u.Name = orElse(pr.Name, u.Name)
		u.Email = orElse(pr.Email, u.Email)
		u.Mobile = orElse(pr.Mobile, u.Mobile)
		if len(pr.Depts) > 0 {
			u.Dept = m.deptOf(pl, pr.Depts[0])
		}
		u.Manager = ""
		if pr.Manager != "" {
			if mid := m.owner[account{pl, pr.Manager}]; mid != id {
				u.Manager = mid
			}
		}
	}
	departed := map[string]bool{}
	for _, id := range m.plan.Departed {
		departed[id] = true
	}
	for _, u := range m.users {
		if departed[u.Manager] {
			u.Manager = ""
		}
	}
	for _, id := range slices.Sorted(maps.Keys(m.users)) {
		m.plan.Users = append(m.plan.Users, m.users[id])
	}
}

func orElse(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// mergeDepts replaces the departments of the synced platforms by theirs
// and keeps the others.
func (m *merger) mergeDepts(cur []*flows.Department, snaps []*Snapshot, synced map[string]bool) {
	out := map[string]*flows.Department{}
	fromSync := func(id string) bool {
		for p := range synced {
			if strings.HasPrefix(id, cleanID(p)+"-") {
				return true
			}
		}
		return false
	}
	for _, d := range cur {
		if !fromSync(d.ID) {
			c := *d
			out[d.ID] = &c
		}
	}
	mappedPlatform := map[string]bool{}
	for k := range m.deptMap {
		p, _, _ := strings.Cut(k, ":")
		mappedPlatform[p] = true
	}
	headSet := map[string]bool{} // mapped departments whose head a source gave this run
	for _, s := range snaps {
		known := map[string]bool{}
		for _, d := range s.Depts {
			known[d.ID] = true
		}
		for _, d := range s.Depts {
			id := m.deptOf(s.Platform, d.ID)
			head := ""
			if d.Head != "" {
				head = m.owner[account{s.Platform, d.Head}]
			}
			parent := ""
			if d.Parent != "" && known[d.Parent] {
				parent = m.deptOf(s.Platform, d.Parent)
			}
			if id == DeptID(s.Platform, d.ID) {
				if mappedPlatform[s.Platform] {
					m.plan.Unmapped = append(m.plan.Unmapped, Unmapped{Platform: s.Platform, Dept: d.ID, Name: d.Name})
				}
				out[id] = &flows.Department{ID: id, Name: d.Name, NameEN: d.NameEN, Parent: parent, Head: head}
				continue
			}
			// A mapped department: the directory's own, with the
			// platform's head and (when mapped too) parent.
			nd := out[id]
			if nd == nil {
				nd = &flows.Department{ID: id, Name: d.Name, NameEN: d.NameEN}
				out[id] = nd
			}
			if !headSet[id] {
				nd.Head = head // none named yet: none
			}
			if head != "" {
				headSet[id] = true
			}
			if parent != "" && parent != id && !strings.HasPrefix(parent, cleanID(s.Platform)+"-") {
				nd.Parent = parent
			}
		}
	}
	departed := map[string]bool{}
	for _, id := range m.plan.Departed {
		departed[id] = true
	}
	for _, d := range out {
		if departed[d.Head] {
			d.Head = "" // a head who left heads nothing
		}
	}
	for _, id := range slices.Sorted(maps.Keys(out)) {
		m.plan.Depts = append(m.plan.Depts, out[id])
	}
	oldD := map[string]*flows.Department{}
	for _, d := range cur {
		oldD[d.ID] = d
	}
	for _, d := range m.plan.Depts {
		o := oldD[d.ID]
		if o == nil {
			m.plan.Changes = append(m.plan.Changes, Change{Op: "+", Kind: "dept", ID: d.ID, Name: d.Name, Fields: fields(nil, d)})
			continue
		}
		if f := fields(o, d); len(f) > 0 {
			m.plan.Changes = append(m.plan.Changes, Change{Op: "~", Kind: "dept", ID: d.ID, Name: d.Name, Fields: f})
		}
	}
	for _, d := range cur {
		if out[d.ID] == nil {
			m.plan.Changes = append(m.plan.Changes, Change{Op: "-", Kind: "dept", ID: d.ID, Name: d.Name})
		}
	}
}

func fields(o, d *flows.Department) []FieldChange {
	if o == nil {
		o = &flows.Department{}
	}
	var fs []FieldChange
	add := func(f, a, b string) {
		if a != b {
			fs = append(fs, FieldChange{f, a, b})
		}
	}
	add("name", o.Name, d.Name)
	add("name_en", o.NameEN, d.NameEN)
	add("parent", o.Parent, d.Parent)
	add("head", o.Head, d.Head)
	return fs
}

// diff lists the user changes (department changes are listed by
// mergeDepts), users first, each kind sorted by id.
func (m *merger) diff() {
	var ch []Change
	for _, u := range m.plan.Users {
		o := m.old[u.ID]
		if o == nil {
			ch = append(ch, Change{Op: "+", Kind: "user", ID: u.ID, Name: u.Name, Fields: userFields(&flows.User{}, u)})
			continue
		}
		if u.Departed && !o.Departed {
			ch = append(ch, Change{Op: "-", Kind: "user", ID: u.ID, Name: u.Name, Fields: userFields(o, u)})
			continue
		}
		if f := userFields(o, u); len(f) > 0 {
			ch = append(ch, Change{Op: "~", Kind: "user", ID: u.ID, Name: u.Name, Fields: f})
		}
	}
	m.plan.Changes = append(ch, m.plan.Changes...)
}

func userFields(o, u *flows.User) []FieldChange {
	var fs []FieldChange
	add := func(f, a, b string) {
		if a != b {
			fs = append(fs, FieldChange{f, a, b})
		}
	}
	add("name", o.Name, u.Name)
	add("email", o.Email, u.Email)
	add("mobile", o.Mobile, u.Mobile)
	add("dept", o.Dept, u.Dept)
	add("manager", o.Manager, u.Manager)
	add("platforms", platforms(o.Platforms), platforms(u.Platforms))
	if o.Departed != u.Departed {
		add("departed", fmt.Sprint(o.Departed), fmt.Sprint(u.Departed))
	}
	return fs
}

func platforms(p map[string]string) string {
	var s []string
	for _, k := range slices.Sorted(maps.Keys(p)) {
		s = append(s, k+":"+p[k])
	}
	return strings.Join(s, ",")
}
