package bots

import (
	"context"
	"slices"
	"strconv"
	"time"

	"github.com/flowbot/flowbot/flows"
)

// statsWindow is the period /stats covers.
const statsWindow = 30 * 24 * time.Hour

// stats answers /stats: requests of the last 30 days by status and flow and
// the median time to a decision, for the viewer's departments (all of them
// for admins and auditors).
func (b *Bot) stats(ctx context.Context, u *flows.User) (Reply, error) {
	loc := locale(u)
	all := u.HasRole("admin") || u.HasRole("auditor")
	depts, err := b.store.Departments(ctx)
	if err != nil {
		return b.fail(ctx, loc, err)
	}
	scope := map[string]bool{}
	if !all {
		for _, d := range depts {
			if d.Head == u.ID {
				scope[d.ID] = true
			}
		}
		if u.HasRole("manager") && u.Dept != "" {
			scope[u.Dept] = true
		}
		if len(scope) == 0 {
			return textReply(false, T(loc, "stats_forbidden", nil)), nil
		}
		for grew := true; grew; { // add sub-departments
			grew = false
			for _, d := range depts {
				if d.Parent != "" && scope[d.Parent] && !scope[d.ID] {
					scope[d.ID], grew = true, true
				}
			}
		}
	}
	users, err := b.store.Users(ctx)
	if err != nil {
		return b.fail(ctx, loc, err)
	}
	deptOf := make(map[string]string, len(users))
	for _, x := range users {
		deptOf[x.ID] = x.Dept
	}
	now := b.now()
	ins, err := b.store.Instances(ctx, flows.InstanceFilter{Since: now.Add(-statsWindow), Limit: 100000})
	if err != nil {
		return b.fail(ctx, loc, err)
	}
	byStatus := map[flows.Status]int{}
	byFlow := map[string]int{}
	var flowsSeen []string
	var took []time.Duration
	total := 0
	for _, in := range ins {
		if !all && !scope[deptOf[in.Applicant]] {
			continue
		}
		total++
		byStatus[in.Status]++
		if byFlow[in.FlowID] == 0 {
			flowsSeen = append(flowsSeen, in.FlowID)
		}
		byFlow[in.FlowID]++
		if in.ClosedAt != nil && (in.Status == flows.StatusApproved || in.Status == flows.StatusRejected) {
			took = append(took, in.ClosedAt.Sub(in.CreatedAt))
		}
	}
	c := &Card{Title: T(loc, "stats_title", nil), Color: ColorBlue}
	scopeText := T(loc, "stats_all", nil)
	if !all {
		var names []string
		for _, d := range depts {
			if scope[d.ID] && (d.Parent == "" || !scope[d.Parent]) {
				names = append(names, b.deptName(loc, d.ID))
			}
		}
		scopeText = joinList(loc, names)
	}
	c.Fields = append(c.Fields,
		Field{Label: T(loc, "stats_scope", nil), Value: truncate(scopeText, maxFieldText)},
		Field{Label: T(loc, "stats_total", nil), Value: strconv.Itoa(total)},
	)
	for _, s := range []flows.Status{flows.StatusPending, flows.StatusReturned, flows.StatusApproved, flows.StatusRejected, flows.StatusWithdrawn, flows.StatusFailed} {
		if n := byStatus[s]; n > 0 {
			c.Fields = append(c.Fields, Field{Label: statusText(loc, s), Value: strconv.Itoa(n)})
		}
	}
	median := T(loc, "stats_none", nil)
	if len(took) > 0 {
		slices.Sort(took)
		mid := took[len(took)/2]
		if len(took)%2 == 0 {
			mid = (took[len(took)/2-1] + mid) / 2
		}
		median = duration(loc, mid)
	}
	c.Fields = append(c.Fields, Field{Label: T(loc, "stats_median", nil), Value: median})
	if len(flowsSeen) > 0 {
		slices.SortFunc(flowsSeen, func(a, b string) int { return byFlow[b] - byFlow[a] })
		lines := []string{T(loc, "stats_by_flow", nil)}
		for i, id := range flowsSeen {
			if i == maxCardFields {
				break
			}
			name := id
			if d, err := b.eng.Definition(ctx, id, 0); err == nil {
				name = d.Name.In(loc)
			}
			lines = append(lines, "• "+name+": "+strconv.Itoa(byFlow[id]))
		}
		c.Markdown = joinNonEmpty("\n", lines...)
	}
	return Reply{Messages: []Message{{Card: c}}}, nil
}

func joinList(loc string, xs []string) string {
	sep := ", "
	if isZH(loc) {
		sep = "、"
	}
	out := ""
	for i, x := range xs {
		if i > 0 {
			out += sep
		}
		out += x
	}
	return out
}
