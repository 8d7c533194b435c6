package dirsync_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/bots/dirsync"
	"github.com/flowbot/flowbot/bots/dirsync/dirsynctest"
	"github.com/flowbot/flowbot/flows"
)

// departs records the departures routed; fail makes the next call fail.
type departs struct {
	mu   sync.Mutex
	ids  []string
	fail bool
}

func (d *departs) Depart(_ context.Context, user string) (*flows.DepartResult, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.fail {
		d.fail = false
		return nil, errors.New("database is down")
	}
	d.ids = append(d.ids, user)
	return &flows.DepartResult{}, nil
}

func (d *departs) routed() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return slices.Clone(d.ids)
}

type eventBed struct {
	st  dirsync.Store
	fs  *dirsynctest.Memory
	s   *dirsync.Syncer
	dep *departs
}

// newEventBed runs a full sync of the suite's directory on "feishu".
func newEventBed(t *testing.T) *eventBed {
	t.Helper()
	b := &eventBed{st: newStore(t), fs: dirsynctest.NewMemory("feishu"), dep: &departs{}}
	b.fs.SetDirectory(slices.Clone(dirsynctest.People), slices.Clone(dirsynctest.Depts))
	b.s = dirsync.New(dirsync.Config{Store: b.st, Sources: []dirsync.Source{b.fs}, Rate: 1000, Departer: b.dep})
	_, err := b.s.Run(context.Background())
	require.NoError(t, err)
	return b
}

func (b *eventBed) user(t *testing.T, id string) *flows.User {
	t.Helper()
	u, err := b.st.(flows.Store).User(context.Background(), id)
	require.NoError(t, err)
	return u
}

func (b *eventBed) dir(t *testing.T) ([]*flows.User, []*flows.Department) {
	t.Helper()
	us, err := b.st.Users(context.Background())
	require.NoError(t, err)
	ds, err := b.st.Departments(context.Background())
	require.NoError(t, err)
	return us, ds
}

func person(id string, mod func(*dirsync.Person)) dirsync.Person {
	for _, p := range dirsynctest.People {
		if p.ID == id {
			p.Depts = slices.Clone(p.Depts)
			mod(&p)
			return p
		}
	}
	p := dirsync.Person{ID: id, Active: true}
	mod(&p)
	return p
}

func TestApplyEvent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	tests := []struct {
		name      string
		ev        dirsync.Event
		changes   int
		conflicts int
		departed  []string
		check     func(t *testing.T, b *eventBed)
	}{
		{name: "Add", changes: 1,
			ev: dirsync.Event{Op: dirsync.PersonChanged, Person: person("u5", func(p *dirsync.Person) {
				p.Name, p.Email, p.Depts, p.Manager = "Dan", "dan@corp.example", []string{"3"}, "u4"
			})},
			check: func(t *testing.T, b *eventBed) {
				u := b.user(t, "feishu-u5")
				require.Equal(t, "Dan", u.Name)
				require.Equal(t, "feishu-3", u.Dept)
				require.Equal(t, "feishu-u4", u.Manager)
			}},
		{name: "Rename", changes: 1,
			ev:    dirsync.Event{Op: dirsync.PersonChanged, Person: person("u2", func(p *dirsync.Person) { p.Name = "Ann Li" })},
			check: func(t *testing.T, b *eventBed) { require.Equal(t, "Ann Li", b.user(t, "feishu-u2").Name) }},
		{name: "Move", changes: 1,
			ev: dirsync.Event{Op: dirsync.PersonChanged, Person: person("u4", func(p *dirsync.Person) { p.Depts, p.Manager = []string{"2"}, "u2" })},
			check: func(t *testing.T, b *eventBed) {
				u := b.user(t, "feishu-u4")
				require.Equal(t, "feishu-2", u.Dept)
				require.Equal(t, "feishu-u2", u.Manager)
			}},
		{name: "Deleted", changes: 1, departed: []string{"feishu-u3"},
			ev: dirsync.Event{Op: dirsync.PersonGone, Person: dirsync.Person{ID: "u3"}},
			check: func(t *testing.T, b *eventBed) {
				u := b.user(t, "feishu-u3")
				require.True(t, u.Departed)
				require.Empty(t, u.Platforms)
			}},
		{name: "Disabled", departed: []string{"feishu-u3"},
			ev:    dirsync.Event{Op: dirsync.PersonChanged, Person: person("u3", func(p *dirsync.Person) { p.Active = false })},
			check: func(t *testing.T, b *eventBed) { require.True(t, b.user(t, "feishu-u3").Departed) }},
		{name: "ManagerLeavesReportsLoseHim", departed: []string{"feishu-u2"},
			ev: dirsync.Event{Op: dirsync.PersonGone, Person: dirsync.Person{ID: "u2"}},
			check: func(t *testing.T, b *eventBed) {
				require.True(t, b.user(t, "feishu-u2").Departed)
				require.Empty(t, b.user(t, "feishu-u3").Manager, "a departed manager is nobody's manager")
			}},
		{name: "ConflictReportedNotGuessed", conflicts: 1,
			ev: dirsync.Event{Op: dirsync.PersonChanged, Person: person("u9", func(p *dirsync.Person) {
				p.Name, p.Email, p.Mobile = "Twin", "boss@corp.example", "13800000002"
			})},
			check: func(t *testing.T, b *eventBed) {
				_, err := b.st.(flows.Store).User(context.Background(), "feishu-u9")
				require.ErrorIs(t, err, flows.ErrNotFound)
			}},
		{name: "DeptRenamed", changes: 1,
			ev: dirsync.Event{Op: dirsync.DeptChanged, Dept: dirsync.Dept{ID: "2", Name: "Sales & Marketing", Parent: "1", Head: "u2"}},
			check: func(t *testing.T, b *eventBed) {
				d, err := b.st.(flows.Store).Department(context.Background(), "feishu-2")
				require.NoError(t, err)
				require.Equal(t, "Sales & Marketing", d.Name)
			}},
		{name: "DeptHeadChanged", changes: 1,
			ev: dirsync.Event{Op: dirsync.DeptChanged, Dept: dirsync.Dept{ID: "2", Name: dirsynctest.Depts[1].Name, NameEN: dirsynctest.Depts[1].NameEN, Parent: dirsynctest.Depts[1].Parent, Head: "u3"}},
			check: func(t *testing.T, b *eventBed) {
				d, err := b.st.(flows.Store).Department(context.Background(), "feishu-2")
				require.NoError(t, err)
				require.Equal(t, "feishu-u3", d.Head)
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := newEventBed(t)
			tt.ev.Platform = "feishu"
			res, err := b.s.ApplyEvent(ctx, tt.ev)
			require.NoError(t, err)
			if tt.changes > 0 {
				require.Len(t, res.Plan.Changes, tt.changes, "%+v", res.Plan.Changes)
			}
			require.Len(t, res.Plan.Conflicts, tt.conflicts)
			require.Equal(t, tt.departed, res.Departed)
			require.Equal(t, tt.departed, b.dep.routed(), "each departure is routed once")
			tt.check(t, b)

			// A redelivered event changes nothing and routes nothing again.
			us, ds := b.dir(t)
			again, err := b.s.ApplyEvent(ctx, tt.ev)
			require.NoError(t, err)
			require.Empty(t, again.Plan.Changes)
			require.Empty(t, again.Departed)
			require.Equal(t, tt.departed, b.dep.routed())
			us2, ds2 := b.dir(t)
			require.Equal(t, us, us2)
			require.Equal(t, ds, ds2)

			// A full sync of the platform as it now is finds nothing to do:
			// the event was applied with the same rules.
			people := slices.Clone(dirsynctest.People)
			depts := slices.Clone(dirsynctest.Depts)
			switch tt.ev.Op {
			case dirsync.PersonChanged, dirsync.PersonGone:
				people = slices.DeleteFunc(people, func(p dirsync.Person) bool { return p.ID == tt.ev.Person.ID })
				if tt.ev.Op == dirsync.PersonChanged {
					people = append(people, tt.ev.Person)
				}
			default:
				depts = slices.DeleteFunc(depts, func(d dirsync.Dept) bool { return d.ID == tt.ev.Dept.ID })
				if tt.ev.Op == dirsync.DeptChanged {
					depts = append(depts, tt.ev.Dept)
				}
			}
			b.fs.SetDirectory(people, depts)
			p, err := b.s.Plan(ctx)
			require.NoError(t, err)
			require.Empty(t, p.Changes, "a full sync agrees with the event")
		})
	}
}

func TestApplyEventBadInput(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := newEventBed(t)
	us, ds := b.dir(t)
	for name, ev := range map[string]dirsync.Event{
		"NoAccountID":     {Platform: "feishu", Op: dirsync.PersonChanged},
		"NoDeptID":        {Platform: "feishu", Op: dirsync.DeptGone},
		"UnknownOp":       {Platform: "feishu", Op: "explode", Person: dirsync.Person{ID: "u1"}},
		"UnknownPlatform": {Platform: "wecom", Op: dirsync.PersonGone, Person: dirsync.Person{ID: "u1"}},
		"UnknownField":    {Platform: "feishu", Op: dirsync.PersonChanged, Person: dirsync.Person{ID: "u1"}, Fields: []string{"salary"}},
		"DeptFieldOnUser": {Platform: "feishu", Op: dirsync.PersonChanged, Person: dirsync.Person{ID: "u1"}, Fields: []string{dirsync.FieldHead}},
		"FieldsOnDelete":  {Platform: "feishu", Op: dirsync.PersonGone, Person: dirsync.Person{ID: "u1"}, Fields: []string{dirsync.FieldName}},
		"OldIDOnDept":     {Platform: "feishu", Op: dirsync.DeptChanged, Dept: dirsync.Dept{ID: "1"}, OldID: "0"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := b.s.ApplyEvent(ctx, ev)
			require.Error(t, err)
		})
	}
	us2, ds2 := b.dir(t)
	require.Equal(t, us, us2, "bad events change nothing")
	require.Equal(t, ds, ds2)
	require.Empty(t, b.dep.routed())
}

// Before the first full sync an event cannot be applied: the platform's
// other accounts are unknown, and a one-person listing would depart them.
func TestApplyEventNeedsAFullSyncFirst(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := newStore(t)
	fs := dirsynctest.NewMemory("feishu")
	s := dirsync.New(dirsync.Config{Store: st, Sources: []dirsync.Source{fs}, Rate: 1000})
	_, err := s.ApplyEvent(ctx, dirsync.Event{Platform: "feishu", Op: dirsync.PersonChanged, Person: dirsync.Person{ID: "u1", Name: "A", Active: true}})
	require.ErrorIs(t, err, dirsync.ErrNoBaseline)
	us, err := st.Users(ctx)
	require.NoError(t, err)
	require.Empty(t, us)
	// A dry run keeps no baseline either.
	fs.SetDirectory(dirsynctest.People, dirsynctest.Depts)
	_, err = s.Plan(ctx)
	require.NoError(t, err)
	require.NoError(t, s.Reset(ctx))
	_, err = s.ApplyEvent(ctx, dirsync.Event{Platform: "feishu", Op: dirsync.PersonGone, Person: dirsync.Person{ID: "u1"}})
	require.ErrorIs(t, err, dirsync.ErrNoBaseline)
}

// The departure is written but its routing crashes: the redelivered event
// (or the next one) routes it.
func TestApplyEventCrashBeforeRouting(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := newEventBed(t)
	b.dep.fail = true
	ev := dirsync.Event{Platform: "feishu", Op: dirsync.PersonGone, Person: dirsync.Person{ID: "u4"}}
	_, err := b.s.ApplyEvent(ctx, ev)
	require.Error(t, err)
	require.True(t, b.user(t, "feishu-u4").Departed, "the directory was written")
	require.Empty(t, b.dep.routed())
	res, err := b.s.ApplyEvent(ctx, ev)
	require.NoError(t, err)
	require.Empty(t, res.Plan.Changes)
	require.Equal(t, []string{"feishu-u4"}, res.Departed)
	require.Equal(t, []string{"feishu-u4"}, b.dep.routed())
	// Once routed, it is forgotten.
	res, err = b.s.ApplyEvent(ctx, ev)
	require.NoError(t, err)
	require.Empty(t, res.Departed)
}

// Two platforms: an event of the second one joins the user of the first
// by email, and its leaving only unlinks that account.
func TestApplyEventTwoPlatforms(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := newStore(t)
	fs, wc := dirsynctest.NewMemory("feishu"), dirsynctest.NewMemory("wecom")
	fs.SetDirectory(slices.Clone(dirsynctest.People), slices.Clone(dirsynctest.Depts))
	dep := &departs{}
	s := dirsync.New(dirsync.Config{Store: st, Sources: []dirsync.Source{fs, wc}, Rate: 1000, Departer: dep})
	_, err := s.Run(ctx)
	require.NoError(t, err)
	join := dirsync.Event{Platform: "wecom", Op: dirsync.PersonChanged, Person: dirsync.Person{ID: "w_ann", Name: "安", Email: "ANN@corp.example", Active: true}}
	res, err := s.ApplyEvent(ctx, join)
	require.NoError(t, err)
	require.Empty(t, res.Plan.Conflicts)
	u, err := st.(flows.Store).User(ctx, "feishu-u2")
	require.NoError(t, err)
	require.Equal(t, map[string]string{"feishu": "u2", "wecom": "w_ann"}, u.Platforms)
	require.Equal(t, "Ann", u.Name, "the first source keeps giving the name")
	_, err = s.ApplyEvent(ctx, dirsync.Event{Platform: "wecom", Op: dirsync.PersonGone, Person: dirsync.Person{ID: "w_ann"}})
	require.NoError(t, err)
	u, err = st.(flows.Store).User(ctx, "feishu-u2")
	require.NoError(t, err)
	require.False(t, u.Departed, "still on Feishu")
	require.Equal(t, map[string]string{"feishu": "u2"}, u.Platforms)
	require.Empty(t, dep.routed())
}

// A partial event (WeCom's update_user, Graph's delta) changes only the
// fields it lists; the others stay as the last listing had them.
func TestApplyEventPartial(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := newEventBed(t)
	before := b.user(t, "feishu-u2")
	_, err := b.s.ApplyEvent(ctx, dirsync.Event{Platform: "feishu", Op: dirsync.PersonChanged,
		Person: dirsync.Person{ID: "u2", Name: "Ann Li"}, Fields: []string{dirsync.FieldName}})
	require.NoError(t, err)
	u := b.user(t, "feishu-u2")
	require.Equal(t, "Ann Li", u.Name)
	require.Equal(t, before.Email, u.Email, "email not in the event: kept")
	require.Equal(t, before.Dept, u.Dept)
	require.Equal(t, before.Manager, u.Manager)
	require.False(t, u.Departed)

	// A department event without the English name keeps it.
	d0 := deptOf(t, b, "feishu-2")
	_, err = b.s.ApplyEvent(ctx, dirsync.Event{Platform: "feishu", Op: dirsync.DeptChanged,
		Dept: dirsync.Dept{ID: "2", Name: "Sales & Marketing", Parent: "1"}, Fields: []string{dirsync.FieldName, dirsync.FieldParent, dirsync.FieldHead}})
	require.NoError(t, err)
	d := deptOf(t, b, "feishu-2")
	require.Equal(t, "Sales & Marketing", d.Name)
	require.Equal(t, d0.NameEN, d.NameEN)
	require.Empty(t, d.Head, "head listed in the event as empty: cleared")
}

func deptOf(t *testing.T, b *eventBed, id string) *flows.Department {
	t.Helper()
	_, ds := b.dir(t)
	for _, d := range ds {
		if d.ID == id {
			return d
		}
	}
	t.Fatalf("no department %s", id)
	return nil
}

// A renamed account (WeCom's NewUserID) stays the same directory user:
// no departure, history kept, reports and heads follow the new id.
func TestApplyEventAccountRenamed(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := newEventBed(t)
	res, err := b.s.ApplyEvent(ctx, dirsync.Event{Platform: "feishu", Op: dirsync.PersonChanged, OldID: "u2",
		Person: dirsync.Person{ID: "u2-new"}, Fields: []string{}})
	require.NoError(t, err)
	require.Empty(t, res.Departed)
	require.Empty(t, b.dep.routed(), "a rename is no departure")
	u := b.user(t, "feishu-u2")
	require.False(t, u.Departed)
	require.Equal(t, "u2-new", u.Platforms["feishu"])

	// Applying it again changes nothing.
	us, ds := b.dir(t)
	res, err = b.s.ApplyEvent(ctx, dirsync.Event{Platform: "feishu", Op: dirsync.PersonChanged, OldID: "u2",
		Person: dirsync.Person{ID: "u2-new"}, Fields: []string{}})
	require.NoError(t, err)
	require.Empty(t, res.Plan.Changes)
	us2, ds2 := b.dir(t)
	require.Equal(t, us, us2)
	require.Equal(t, ds, ds2)
}

// An event that names only the account (DingTalk's org events) is read
// from the platform: changed, or gone when the platform has it no more; a
// platform that fails leaves the directory as it was.
func TestApplyEventLookup(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := newEventBed(t)
	people := slices.Clone(dirsynctest.People)
	people[1].Name = "Ann Li"
	people = slices.DeleteFunc(people, func(p dirsync.Person) bool { return p.ID == "u3" })
	depts := slices.Clone(dirsynctest.Depts)
	depts[1].Name = "Sales & Marketing"
	b.fs.SetDirectory(people, depts)

	_, err := b.s.ApplyEvent(ctx, dirsync.Event{Platform: "feishu", Op: dirsync.PersonChanged, Person: dirsync.Person{ID: "u2"}, Lookup: true})
	require.NoError(t, err)
	require.Equal(t, "Ann Li", b.user(t, "feishu-u2").Name)
	require.Equal(t, "ann@corp.example", b.user(t, "feishu-u2").Email)
	res, err := b.s.ApplyEvent(ctx, dirsync.Event{Platform: "feishu", Op: dirsync.PersonChanged, Person: dirsync.Person{ID: "u3"}, Lookup: true})
	require.NoError(t, err)
	require.Equal(t, []string{"feishu-u3"}, res.Departed, "not on the platform any more: gone")
	_, err = b.s.ApplyEvent(ctx, dirsync.Event{Platform: "feishu", Op: dirsync.DeptChanged, Dept: dirsync.Dept{ID: "2"}, Lookup: true})
	require.NoError(t, err)
	require.Equal(t, "Sales & Marketing", deptOf(t, b, "feishu-2").Name)

	us, ds := b.dir(t)
	b.fs.FailAfter(0)
	_, err = b.s.ApplyEvent(ctx, dirsync.Event{Platform: "feishu", Op: dirsync.PersonChanged, Person: dirsync.Person{ID: "u1"}, Lookup: true})
	require.ErrorContains(t, err, "connection reset")
	us2, ds2 := b.dir(t)
	require.Equal(t, us, us2)
	require.Equal(t, ds, ds2)
}

// A platform retries an event after a newer change of the same person
// was applied: the retry is stale and skipped; a newer one applies.
func TestApplyEventStaleRetrySkipped(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := newEventBed(t)
	t0 := time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC)
	rename := func(name string, at time.Time) (*dirsync.EventResult, error) {
		return b.s.ApplyEvent(ctx, dirsync.Event{Platform: "feishu", Op: dirsync.PersonChanged, At: at,
			Person: person("u2", func(p *dirsync.Person) { p.Name = name })})
	}
	_, err := rename("Ann B", t0.Add(time.Minute))
	require.NoError(t, err)
	res, err := rename("Ann A", t0) // the retry of an older change
	require.NoError(t, err)
	require.True(t, res.Stale)
	require.Equal(t, "Ann B", b.user(t, "feishu-u2").Name)
	// The departure of an older event does not undo a newer change either.
	res, err = b.s.ApplyEvent(ctx, dirsync.Event{Platform: "feishu", Op: dirsync.PersonGone, At: t0, Person: dirsync.Person{ID: "u2"}})
	require.NoError(t, err)
	require.True(t, res.Stale)
	require.False(t, b.user(t, "feishu-u2").Departed)
	require.Empty(t, b.dep.routed())
	// The same event again applies (and changes nothing); a newer one wins.
	res, err = rename("Ann B", t0.Add(time.Minute))
	require.NoError(t, err)
	require.False(t, res.Stale)
	_, err = rename("Ann C", t0.Add(2*time.Minute))
	require.NoError(t, err)
	require.Equal(t, "Ann C", b.user(t, "feishu-u2").Name)
	// Other people are not held back by u2's clock.
	res, err = b.s.ApplyEvent(ctx, dirsync.Event{Platform: "feishu", Op: dirsync.PersonChanged, At: t0,
		Person: person("u3", func(p *dirsync.Person) { p.Name = "Bob Wu" })})
	require.NoError(t, err)
	require.False(t, res.Stale)
	require.Equal(t, "Bob Wu", b.user(t, "feishu-u3").Name)
}
