package dirsync_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/bots/dirsync"
	"github.com/flowbot/flowbot/bots/dirsync/dirsynctest"
	"github.com/flowbot/flowbot/flows"
)

// Departments mapped by hand: Feishu's and DingTalk's sales departments
// are the directory's one "sales", its head the first platform's head,
// people of both in it; a department the mapping leaves out is reported
// and kept as the platform's own, never matched by its name; heads follow
// the platforms' changes, and a head who leaves heads nothing.
func TestDeptMapping(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := newStore(t)
	fst := st.(flows.Store)
	require.NoError(t, st.ReplaceDirectory(ctx, nil, []*flows.Department{
		{ID: "hq", Name: "总部", NameEN: "Head office"},
		{ID: "sales", Name: "销售部", NameEN: "Sales", Parent: "hq"},
	}))
	fs, dt := dirsynctest.NewMemory("feishu"), dirsynctest.NewMemory("dingtalk")
	fs.SetDirectory(dirsynctest.People, dirsynctest.Depts) // 1 Company, 2 Sales (head u2), 3 R&D
	dtPeople := []dirsync.Person{
		{ID: "dt_ann", Name: "Ann", Email: "ann@corp.example", Depts: []string{"20"}, Active: true},
		{ID: "dt_wu", Name: "Wu", Mobile: "13900000001", Depts: []string{"20"}, Manager: "dt_ann", Active: true},
		{ID: "dt_li", Name: "Li", Mobile: "13900000002", Depts: []string{"30"}, Active: true},
	}
	dtDepts := []dirsync.Dept{{ID: "10", Name: "Company"}, {ID: "20", Name: "Sales", Parent: "10", Head: "dt_wu"}, {ID: "30", Name: "R&D", Parent: "10"}}
	dt.SetDirectory(dtPeople, dtDepts)
	s := dirsync.New(dirsync.Config{Store: st, Sources: []dirsync.Source{fs, dt}, Rate: 1000,
		DeptMapping: map[string]string{"feishu:1": "hq", "feishu:2": "sales", "dingtalk:10": "hq", "dingtalk:20": "sales"}})

	p, err := s.Plan(ctx)
	require.NoError(t, err)
	require.Equal(t, []dirsync.Unmapped{{Platform: "feishu", Dept: "3", Name: "R&D"}, {Platform: "dingtalk", Dept: "30", Name: "R&D"}}, p.Unmapped,
		"same name on two platforms, not mapped: reported, not merged")
	var out bytes.Buffer
	require.NoError(t, p.Format(&out))
	require.Contains(t, out.String(), "? unmapped department dingtalk:30 (R&D): kept as dingtalk-30")
	require.NoError(t, s.Apply(ctx, p))

	sales, err := fst.Department(ctx, "sales")
	require.NoError(t, err)
	require.Equal(t, "销售部", sales.Name, "the directory's name stays")
	require.Equal(t, "hq", sales.Parent)
	require.Equal(t, "feishu-u2", sales.Head, "the first platform's head")
	for id, dept := range map[string]string{"feishu-u2": "sales", "feishu-u3": "sales", "dingtalk-dt_wu": "sales", "feishu-u4": "feishu-3", "dingtalk-dt_li": "dingtalk-30", "feishu-u1": "hq"} {
		u, err := fst.User(ctx, id)
		require.NoError(t, err)
		require.Equal(t, dept, u.Dept, id)
	}
	_, err = fst.Department(ctx, "feishu-2")
	require.ErrorIs(t, err, flows.ErrNotFound, "a mapped department is not copied")

	// Ann (the head on Feishu) leaves: the DingTalk head takes over at the
	// next change; on her departure she heads nothing.
	_, err = s.ApplyEvent(ctx, dirsync.Event{Platform: "feishu", Op: dirsync.PersonGone, Person: dirsync.Person{ID: "u2"}})
	require.NoError(t, err)
	sales, err = fst.Department(ctx, "sales")
	require.NoError(t, err)
	require.Equal(t, "dingtalk-dt_wu", sales.Head, "feishu's Sales has no head left: DingTalk's head")

	// A department event on a mapped department keeps the mapping.
	_, err = s.ApplyEvent(ctx, dirsync.Event{Platform: "dingtalk", Op: dirsync.DeptChanged, Dept: dirsync.Dept{ID: "20", Name: "Sales", Parent: "10"}})
	require.NoError(t, err)
	sales, err = fst.Department(ctx, "sales")
	require.NoError(t, err)
	require.Empty(t, sales.Head, "neither platform names a head")
	require.Equal(t, "销售部", sales.Name)
}
