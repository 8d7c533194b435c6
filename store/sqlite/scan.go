package sqlite

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/flowbot/flowbot/flows"
)

// Times are stored as INTEGER unix milliseconds (UTC).

func ms(t time.Time) int64 { return t.UnixMilli() }

// nms is ms for an optional time: NULL when nil.
func nms(t *time.Time) any {
	if t == nil {
		return nil
	}
	return t.UnixMilli()
}

func fromMS(v int64) time.Time { return time.UnixMilli(v).UTC() }

// msTime scans an INTEGER millisecond column into a time.Time.
type msTime struct{ p *time.Time }

func (m msTime) Scan(v any) error {
	x, ok := v.(int64)
	if !ok {
		return fmt.Errorf("scan time: got %T, want integer milliseconds", v)
	}
	*m.p = fromMS(x)
	return nil
}

// nullMS scans a nullable INTEGER millisecond column into a *time.Time.
type nullMS struct{ p **time.Time }

func (n nullMS) Scan(v any) error {
	switch x := v.(type) {
	case nil:
		*n.p = nil
	case int64:
		t := fromMS(x)
		*n.p = &t
	default:
		return fmt.Errorf("scan time: got %T, want integer milliseconds or NULL", v)
	}
	return nil
}

// rawJSON scans a BLOB into a json.RawMessage (nil for NULL or empty).
type rawJSON struct{ p *json.RawMessage }

func (r rawJSON) Scan(v any) error {
	switch x := v.(type) {
	case nil:
		*r.p = nil
	case []byte:
		if len(x) == 0 {
			*r.p = nil
		} else {
			*r.p = append(json.RawMessage(nil), x...)
		}
	case string:
		if x == "" {
			*r.p = nil
		} else {
			*r.p = json.RawMessage(x)
		}
	default:
		return fmt.Errorf("scan json: got %T", v)
	}
	return nil
}

// blob returns b for a BLOB column, NULL when empty.
func blob(b []byte) any {
	if len(b) == 0 {
		return nil
	}
	return b
}

func b2i(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

type scanner interface{ Scan(dest ...any) error }

const instanceCols = `id, number, flow_id, flow_version, applicant, status, form, step_index, step_id, created_at, updated_at, closed_at, last_urge_at, rev`

func scanInstance(s scanner) (*flows.Instance, error) {
	in := &flows.Instance{}
	err := s.Scan(&in.ID, &in.Number, &in.FlowID, &in.FlowVersion, &in.Applicant, &in.Status,
		rawJSON{&in.Form}, &in.StepIndex, &in.StepID, msTime{&in.CreatedAt}, msTime{&in.UpdatedAt},
		nullMS{&in.ClosedAt}, nullMS{&in.LastUrgeAt}, &in.Rev)
	if err != nil {
		return nil, err
	}
	return in, nil
}

const taskCols = `id, instance_id, step_id, seq, assignee, status, comment, decided_by, auto, created_at, started_at, decided_at, remind_at, escalate_at, timeout_at, due_at, reminders, escalated, from_user, note, on_behalf_of`

func scanTask(s scanner) (*flows.Task, error) {
	t := &flows.Task{}
	err := s.Scan(&t.ID, &t.InstanceID, &t.StepID, &t.Seq, &t.Assignee, &t.Status, &t.Comment, &t.DecidedBy,
		&t.Auto, msTime{&t.CreatedAt}, nullMS{&t.StartedAt}, nullMS{&t.DecidedAt}, nullMS{&t.RemindAt},
		nullMS{&t.EscalateAt}, nullMS{&t.TimeoutAt}, nullMS{&t.DueAt}, &t.Reminders, &t.Escalated, &t.From, &t.Note, &t.OnBehalfOf)
	if err != nil {
		return nil, err
	}
	return t, nil
}

const eventCols = `id, instance_id, task_id, flow_id, step_id, type, actor, auto, data, at`

func scanEvent(s scanner) (*flows.Event, error) {
	e := &flows.Event{}
	err := s.Scan(&e.ID, &e.InstanceID, &e.TaskID, &e.FlowID, &e.StepID, &e.Type, &e.Actor, &e.Auto,
		rawJSON{&e.Data}, msTime{&e.At})
	if err != nil {
		return nil, err
	}
	return e, nil
}

const outboxCols = `id, kind, recipient, instance_id, task_id, step_id, data, status, attempts, next_at, last_error, created_at, delivered_at`

func scanOutbox(s scanner) (*flows.OutboxMessage, error) {
	m := &flows.OutboxMessage{}
	err := s.Scan(&m.ID, &m.Kind, &m.Recipient, &m.InstanceID, &m.TaskID, &m.StepID, rawJSON{&m.Data},
		&m.Status, &m.Attempts, msTime{&m.NextAt}, &m.LastError, msTime{&m.CreatedAt}, nullMS{&m.DeliveredAt})
	if err != nil {
		return nil, err
	}
	return m, nil
}
