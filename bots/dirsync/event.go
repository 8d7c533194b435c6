package dirsync

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/flowbot/flowbot/flows"
)

// EventOp is what a change event says happened.
type EventOp string

const (
	PersonChanged EventOp = "person"      // an account was created or changed (Person)
	PersonGone    EventOp = "person_gone" // an account was deleted (Person.ID)
	DeptChanged   EventOp = "dept"        // a department was created or changed (Dept)
	DeptGone      EventOp = "dept_gone"   // a department was deleted (Dept.ID)
)

// Event is one change a platform reported (a Feishu contact event, a WeCom
// change_contact callback, a DingTalk org event, a Graph delta entry),
// already verified and decoded by the platform's adapter.
type Event struct {
	Platform string
	Op       EventOp
	Person   Person
	Dept     Dept
	// Fields, when set on a PersonChanged or DeptChanged event, lists the
	// Person or Dept fields the event carries (FieldName, FieldEmail...):
	// the others are kept from the platform's last listing. Platforms that
	// send only what changed (WeCom's update_user, Graph's delta) or leave
	// fields out (Feishu's department events have no English name) set
	// it (an empty non-nil list: nothing but the id, as in a rename);
	// nil, Person or Dept is complete.
	Fields []string
	// Lookup says the platform told only which account or department
	// changed (DingTalk's org events): ApplyEvent reads it from the
	// platform's Source, which must be a Lookup; one the platform no
	// longer has is gone. Person and Dept carry just the id.
	Lookup bool
	// At is when the platform says the change happened (zero: unknown).
	// An event older than one already applied to the same account or
	// department is stale: a retry overtaken by a newer change, skipped.
	At time.Time
	// OldID is the account's previous id when the platform renamed it
	// (WeCom's NewUserID): the directory user linked to OldID keeps its
	// history and is linked to Person.ID.
	OldID string
}

// The Person and Dept fields an Event.Fields may list.
const (
	FieldName    = "name" // Person and Dept
	FieldEmail   = "email"
	FieldMobile  = "mobile"
	FieldDepts   = "depts"
	FieldManager = "manager"
	FieldActive  = "active"
	FieldNameEN  = "name_en" // Dept
	FieldParent  = "parent"
	FieldHead    = "head"
)

var (
	personFields = []string{FieldName, FieldEmail, FieldMobile, FieldDepts, FieldManager, FieldActive}
	deptFields   = []string{FieldName, FieldNameEN, FieldParent, FieldHead}
)

// ErrNoBaseline is returned by ApplyEvent before the first full sync of
// the event's platform: a change can only be applied to a known directory.
var ErrNoBaseline = errors.New("no full sync of this platform yet")

// Lookup is a Source that can read one account or department, for the
// events that carry only an id. found is false when the platform has no
// such account or department (any more).
type Lookup interface {
	Person(ctx context.Context, id string) (p Person, found bool, err error)
	Dept(ctx context.Context, id string) (d Dept, found bool, err error)
}

// ErrNotSynced is returned by ApplyEvent for a platform the Syncer has no
// source of: the event is not for this directory.
var ErrNotSynced = errors.New("platform not configured for sync")

// Departer routes the open tasks and delegations of a user who left
// (flows.Engine.Depart).
type Departer interface {
	Depart(ctx context.Context, user string) (*flows.DepartResult, error)
}

func baselineKey(platform string) string { return platform + "#baseline" }

// check returns why ev cannot be applied, nil when it can.
func (ev Event) check() error {
	switch ev.Op {
	case PersonChanged, PersonGone:
		if ev.Person.ID == "" {
			return fmt.Errorf("%s event without an account id", ev.Op)
		}
	case DeptChanged, DeptGone:
		if ev.Dept.ID == "" {
			return fmt.Errorf("%s event without a department id", ev.Op)
		}
	default:
		return fmt.Errorf("unknown event op %q", ev.Op)
	}
	known := map[EventOp][]string{PersonChanged: personFields, DeptChanged: deptFields}[ev.Op]
	for _, f := range ev.Fields {
		if !slices.Contains(known, f) {
			return fmt.Errorf("%s event lists the unknown field %q", ev.Op, f)
		}
	}
	if ev.OldID != "" && ev.Op != PersonChanged {
		return fmt.Errorf("%s event with a previous account id", ev.Op)
	}
	if ev.Lookup && (ev.Op == PersonGone || ev.Op == DeptGone || ev.Fields != nil || ev.OldID != "") {
		return fmt.Errorf("%s event to look up with fields or a previous id", ev.Op)
	}
	return nil
}

// complete fills the fields a partial event does not carry from the
// account's last known state (from, the zero Person if unknown).
func (ev Event) complete(from Person) Person {
	if ev.Fields == nil {
		return ev.Person
	}
	p := from
	p.ID = ev.Person.ID
	for _, f := range ev.Fields {
		switch f {
		case FieldName:
			p.Name = ev.Person.Name
		case FieldEmail:
			p.Email = ev.Person.Email
		case FieldMobile:
			p.Mobile = ev.Person.Mobile
		case FieldDepts:
			p.Depts = slices.Clone(ev.Person.Depts)
		case FieldManager:
			p.Manager = ev.Person.Manager
		case FieldActive:
			p.Active = ev.Person.Active
		}
	}
	if from.ID == "" && !slices.Contains(ev.Fields, FieldActive) {
		p.Active = true // a partial event about an account never listed: it exists
	}
	return p
}

// completeDept is complete for a department.
func (ev Event) completeDept(from Dept) Dept {
	if ev.Fields == nil {
		return ev.Dept
	}
	d := from
	d.ID = ev.Dept.ID
	for _, f := range ev.Fields {
		switch f {
		case FieldName:
			d.Name = ev.Dept.Name
		case FieldNameEN:
			d.NameEN = ev.Dept.NameEN
		case FieldParent:
			d.Parent = ev.Dept.Parent
		case FieldHead:
			d.Head = ev.Dept.Head
		}
	}
	return d
}

// seenKeys are the keys of Snapshot.Seen the event is about.
func (ev Event) seenKeys() []string {
	switch ev.Op {
	case PersonChanged, PersonGone:
		if ev.OldID != "" {
			return []string{"p:" + ev.Person.ID, "p:" + ev.OldID}
		}
		return []string{"p:" + ev.Person.ID}
	}
	return []string{"d:" + ev.Dept.ID}
}

// stale reports whether a newer event about the same entry was applied.
func (ev Event) stale(snap *Snapshot) bool {
	if ev.At.IsZero() {
		return false
	}
	for _, k := range ev.seenKeys() {
		if snap.Seen[k] > ev.At.UnixMilli() {
			return true
		}
	}
	return false
}

// apply returns the snapshot with ev applied; snap is not changed.
func (ev Event) apply(snap *Snapshot) *Snapshot {
	out := &Snapshot{Platform: snap.Platform, People: slices.Clone(snap.People), Depts: slices.Clone(snap.Depts), Done: true, Pages: snap.Pages,
		Seen: maps.Clone(snap.Seen)}
	if !ev.At.IsZero() {
		if out.Seen == nil {
			out.Seen = map[string]int64{}
		}
		for _, k := range ev.seenKeys() {
			out.Seen[k] = max(out.Seen[k], ev.At.UnixMilli())
		}
	}
	switch ev.Op {
	case PersonChanged, PersonGone:
		var from Person
		for _, p := range out.People {
			if p.ID == ev.Person.ID || (ev.OldID != "" && p.ID == ev.OldID) {
				from = p
			}
		}
		out.People = slices.DeleteFunc(out.People, func(p Person) bool {
			return p.ID == ev.Person.ID || (ev.OldID != "" && p.ID == ev.OldID)
		})
		if ev.Op == PersonChanged {
			out.People = append(out.People, ev.complete(from))
		}
		if ev.OldID != "" {
			// Others' manager and heads point at the new id.
			for i := range out.People {
				if out.People[i].Manager == ev.OldID {
					out.People[i].Manager = ev.Person.ID
				}
			}
			for i := range out.Depts {
				if out.Depts[i].Head == ev.OldID {
					out.Depts[i].Head = ev.Person.ID
				}
			}
		}
	case DeptChanged, DeptGone:
		var from Dept
		for _, d := range out.Depts {
			if d.ID == ev.Dept.ID {
				from = d
			}
		}
		out.Depts = slices.DeleteFunc(out.Depts, func(d Dept) bool { return d.ID == ev.Dept.ID })
		if ev.Op == DeptChanged {
			out.Depts = append(out.Depts, ev.completeDept(from))
		}
	}
	return out
}

// baselines loads the last full listing of every source.
func (s *Syncer) baselines(ctx context.Context) ([]*Snapshot, error) {
	var snaps []*Snapshot
	for _, src := range s.cfg.Sources {
		key := src.Platform()
		_, data, err := s.cfg.Store.SyncState(ctx, baselineKey(key))
		if errors.Is(err, flows.ErrNotFound) {
			return nil, fmt.Errorf("%s: %w", key, ErrNoBaseline)
		}
		if err != nil {
			return nil, fmt.Errorf("load the last listing of %s: %w", key, err)
		}
		snap := &Snapshot{}
		if err := json.Unmarshal(data, snap); err != nil {
			return nil, fmt.Errorf("decode the last listing of %s: %w", key, err)
		}
		snaps = append(snaps, snap)
	}
	return snaps, nil
}

func (s *Syncer) saveBaseline(ctx context.Context, snap *Snapshot) error {
	b, err := json.Marshal(snap)
	if err != nil {
		return fmt.Errorf("encode the listing of %s: %w", snap.Platform, err)
	}
	if err := s.cfg.Store.SaveSyncState(ctx, baselineKey(snap.Platform), "", b); err != nil {
		return fmt.Errorf("save the listing of %s: %w", snap.Platform, err)
	}
	return nil
}

// EventResult is what ApplyEvent did.
type EventResult struct {
	Plan *Plan
	// Departed are the users the event made (or found) departed whose
	// tasks and delegations were routed.
	Departed []string
	// Stale is set when the event was skipped: a newer change of the same
	// account or department was applied already.
	Stale bool
}

// ApplyEvent applies one change event to the directory with the rules of
// a full sync: the platform's last full listing (kept by every full sync)
// is changed by the event and every platform's listing merged again, so
// matching, conflicts, departures, managers and heads come out exactly as
// a full sync of the same data would. Applying an event twice changes
// nothing the second time. A departure routes the user's open tasks and
// delegations (Config.Departer), also when it was written by an earlier
// attempt that crashed before routing. A periodic full sync remains the
// safety net for lost or reordered events.
func (s *Syncer) ApplyEvent(ctx context.Context, ev Event) (*EventResult, error) {
	if err := ev.check(); err != nil {
		return nil, fmt.Errorf("directory change from %s: %w", ev.Platform, err)
	}
	i := slices.IndexFunc(s.cfg.Sources, func(src Source) bool { return src.Platform() == ev.Platform })
	if i < 0 {
		return nil, fmt.Errorf("directory change from %s: %w", ev.Platform, ErrNotSynced)
	}
	if ev.Lookup {
		var err error
		if ev, err = s.lookup(ctx, s.cfg.Sources[i], ev); err != nil {
			return nil, fmt.Errorf("directory change from %s: %w", ev.Platform, err)
		}
	}
	if s.cfg.Lock != nil {
		unlock, err := s.cfg.Lock(ctx)
		if err != nil {
			return nil, fmt.Errorf("directory change from %s: %w", ev.Platform, err)
		}
		defer unlock()
	} else {
		s.mu.Lock()
		defer s.mu.Unlock()
	}
	snaps, err := s.baselines(ctx)
	if err != nil {
		return nil, fmt.Errorf("directory change from %s: %w", ev.Platform, err)
	}
	if ev.stale(snaps[i]) {
		s.log.InfoContext(ctx, "stale directory change skipped", "platform", ev.Platform, "op", ev.Op, "at", ev.At)
		return &EventResult{Plan: &Plan{}, Stale: true}, nil
	}
	snaps[i] = ev.apply(snaps[i])
	users, err := s.cfg.Store.Users(ctx)
	if err != nil {
		return nil, fmt.Errorf("directory change from %s: %w", ev.Platform, err)
	}
	var relinked []*flows.User // the users before the rename
	if ev.OldID != "" {
		users, relinked = relink(users, ev.Platform, ev.OldID, ev.Person.ID)
	}
	depts, err := s.cfg.Store.Departments(ctx)
	if err != nil {
		return nil, fmt.Errorf("directory change from %s: %w", ev.Platform, err)
	}
	p := MergeMapped(users, depts, snaps, s.mapping())
	for _, o := range relinked {
		// Merge compared with the renamed link: say the rename itself.
		p.Changes = slices.DeleteFunc(p.Changes, func(c Change) bool { return c.Kind == "user" && c.ID == o.ID })
		for _, u := range p.Users {
			if u.ID == o.ID {
				if f := userFields(o, u); len(f) > 0 {
					p.Changes = append(p.Changes, Change{Op: "~", Kind: "user", ID: u.ID, Name: u.Name, Fields: f})
				}
			}
		}
	}
	if err := s.recordDepartures(ctx, p.Departed); err != nil {
		return nil, fmt.Errorf("directory change from %s: %w", ev.Platform, err)
	}
	if len(p.Changes) > 0 {
		if err := s.cfg.Store.ReplaceDirectory(ctx, p.Users, p.Depts); err != nil {
			return nil, fmt.Errorf("directory change from %s: apply: %w", ev.Platform, err)
		}
	}
	if err := s.saveBaseline(ctx, snaps[i]); err != nil {
		return nil, fmt.Errorf("directory change from %s: %w", ev.Platform, err)
	}
	res := &EventResult{Plan: p}
	if res.Departed, err = s.depart(ctx, p.Departed); err != nil {
		return res, fmt.Errorf("directory change from %s: %w", ev.Platform, err)
	}
	s.log.InfoContext(ctx, "directory change applied", "platform", ev.Platform, "op", ev.Op,
		"changes", len(p.Changes), "conflicts", len(p.Conflicts), "departed", len(res.Departed))
	return res, nil
}

// lookup reads the account or department of ev from the platform: a
// complete change, or its deletion when the platform no longer has it.
func (s *Syncer) lookup(ctx context.Context, src Source, ev Event) (Event, error) {
	lk, ok := src.(Lookup)
	if !ok {
		return ev, fmt.Errorf("the %s source cannot look up one %s", src.Platform(), ev.Op)
	}
	out := Event{Platform: ev.Platform, Op: ev.Op, At: ev.At}
	if ev.Op == PersonChanged {
		p, found, err := lk.Person(ctx, ev.Person.ID)
		if err != nil {
			return ev, fmt.Errorf("look up account %s: %w", ev.Person.ID, err)
		}
		if !found {
			out.Op, p = PersonGone, Person{ID: ev.Person.ID}
		}
		if p.ID != ev.Person.ID {
			return ev, fmt.Errorf("look up account %s: the platform answered for %q", ev.Person.ID, p.ID)
		}
		out.Person = p
		return out, nil
	}
	d, found, err := lk.Dept(ctx, ev.Dept.ID)
	if err != nil {
		return ev, fmt.Errorf("look up department %s: %w", ev.Dept.ID, err)
	}
	if !found {
		out.Op, d = DeptGone, Dept{ID: ev.Dept.ID}
	}
	if d.ID != ev.Dept.ID {
		return ev, fmt.Errorf("look up department %s: the platform answered for %q", ev.Dept.ID, d.ID)
	}
	out.Dept = d
	return out, nil
}

// relink returns users with the account old of platform renamed to new
// (the users changed are copies), and those users as they were.
func relink(users []*flows.User, platform, old, new string) (out, was []*flows.User) {
	out = slices.Clone(users)
	for i, u := range out {
		if u.Platforms[platform] == old {
			c := *u
			c.Platforms = maps.Clone(u.Platforms)
			c.Platforms[platform] = new
			out[i] = &c
			was = append(was, u)
		}
	}
	return out, was
}

// departingKey keeps the departures written to the directory but not yet
// routed, so that a crash between the two is finished by the next run.
const departingKey = "dirsync#departing"

func (s *Syncer) departing(ctx context.Context) ([]string, error) {
	_, data, err := s.cfg.Store.SyncState(ctx, departingKey)
	if errors.Is(err, flows.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("load the departures to route: %w", err)
	}
	var ids []string
	if err := json.Unmarshal(data, &ids); err != nil {
		return nil, fmt.Errorf("decode the departures to route: %w", err)
	}
	return ids, nil
}

// recordDepartures adds ids to the departures to route.
func (s *Syncer) recordDepartures(ctx context.Context, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	old, err := s.departing(ctx)
	if err != nil {
		return err
	}
	for _, id := range ids {
		if !slices.Contains(old, id) {
			old = append(old, id)
		}
	}
	b, err := json.Marshal(old)
	if err != nil {
		return fmt.Errorf("encode the departures to route: %w", err)
	}
	if err := s.cfg.Store.SaveSyncState(ctx, departingKey, "", b); err != nil {
		return fmt.Errorf("save the departures to route: %w", err)
	}
	return nil
}

// depart routes the recorded departures (ids among them, recorded before
// the directory was written) through the Departer, and forgets them once
// routed. Without a Departer it does nothing.
func (s *Syncer) depart(ctx context.Context, ids []string) ([]string, error) {
	if s.cfg.Departer == nil {
		return nil, nil
	}
	todo, err := s.departing(ctx)
	if err != nil {
		return nil, err
	}
	for _, id := range ids {
		if !slices.Contains(todo, id) {
			todo = append(todo, id)
		}
	}
	if len(todo) == 0 {
		return nil, nil
	}
	var done []string
	for _, id := range todo {
		if _, err := s.cfg.Departer.Depart(ctx, id); err != nil {
			return done, fmt.Errorf("route the departure of %s: %w", id, err)
		}
		done = append(done, id)
	}
	if err := s.cfg.Store.ClearSyncState(ctx, departingKey); err != nil {
		return done, fmt.Errorf("forget the routed departures: %w", err)
	}
	return done, nil
}
