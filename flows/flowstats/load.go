package flowstats

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/flowbot/flowbot/flows"
)

// maxRows bounds what one Load reads of each kind.
const maxRows = 1 << 20

// Compute loads the rows q needs from store and builds its report.
func Compute(ctx context.Context, store flows.Store, q Query) (*Report, error) {
	rows, err := Load(ctx, store, q)
	if err != nil {
		return nil, err
	}
	return Build(rows, q), nil
}

// Load reads what a report over q's window needs: the requests filed in the
// window, those still open, those that ended in the window (found through
// the event log's completed and withdrawn events), their tasks and the
// directory's users. Scope (Depts, Applicants) is applied by Build, so
// that one Load serves reports of several scopes over the same window.
func Load(ctx context.Context, store flows.Store, q Query) (*Rows, error) {
	if store == nil {
		return nil, errors.New("load statistics: no store")
	}
	if !q.Until.IsZero() && q.Until.Before(q.Since) {
		return nil, fmt.Errorf("load statistics: window ends (%s) before it starts (%s)", q.Until, q.Since)
	}
	byID := map[int64]*flows.Instance{}
	var order []int64
	add := func(xs []*flows.Instance) {
		for _, x := range xs {
			if byID[x.ID] == nil && (q.Until.IsZero() || x.CreatedAt.Before(q.Until)) {
				byID[x.ID] = x
				order = append(order, x.ID)
			}
		}
	}
	filed, err := store.Instances(ctx, flows.InstanceFilter{FlowID: q.FlowID, Since: q.Since, Limit: maxRows})
	if err != nil {
		return nil, fmt.Errorf("load requests filed since %s: %w", q.Since.Format("2006-01-02"), err)
	}
	add(filed)
	open, err := store.Instances(ctx, flows.InstanceFilter{FlowID: q.FlowID, Status: []flows.Status{flows.StatusPending, flows.StatusReturned}, Limit: maxRows})
	if err != nil {
		return nil, fmt.Errorf("load open requests: %w", err)
	}
	add(open)

	// Requests filed before the window that ended inside it.
	var ended []int64
	f := flows.EventFilter{FlowID: q.FlowID, Types: []flows.EventType{flows.EvCompleted, flows.EvWithdrawn}, Since: q.Since, Until: q.Until, Limit: 1000}
	for {
		evs, err := store.Events(ctx, f)
		if err != nil {
			return nil, fmt.Errorf("load completion events: %w", err)
		}
		for _, e := range evs {
			if byID[e.InstanceID] == nil && !slices.Contains(ended, e.InstanceID) {
				ended = append(ended, e.InstanceID)
			}
		}
		if len(evs) < f.Limit {
			break
		}
		f.AfterID = evs[len(evs)-1].ID
	}

	rows := &Rows{}
	err = store.View(ctx, func(tx flows.Tx) error {
		for _, id := range ended {
			x, err := tx.Instance(id)
			if errors.Is(err, flows.ErrNotFound) {
				continue
			}
			if err != nil {
				return fmt.Errorf("load request %d: %w", id, err)
			}
			add([]*flows.Instance{x})
		}
		for _, id := range order {
			ts, err := tx.TasksOf(id)
			if err != nil {
				return fmt.Errorf("load tasks of request %d: %w", id, err)
			}
			rows.Tasks = append(rows.Tasks, ts...)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("load statistics: %w", err)
	}
	for _, id := range order {
		rows.Instances = append(rows.Instances, byID[id])
	}
	if rows.Users, err = store.Users(ctx); err != nil {
		return nil, fmt.Errorf("load users: %w", err)
	}
	return rows, nil
}
