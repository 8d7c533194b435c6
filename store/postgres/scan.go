package postgres

import (
	"encoding/json"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/flowbot/flowbot/flows"
)

// Times are written at millisecond precision and read back in UTC.

func ms(t time.Time) time.Time { return time.UnixMilli(t.UnixMilli()).UTC() }

// nms is ms for an optional time: NULL when nil.
func nms(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	v := ms(*t)
	return &v
}

func utc(p *time.Time) { *p = p.UTC() }

func nutc(p **time.Time) {
	if *p != nil {
		v := (*p).UTC()
		*p = &v
	}
}

// blob returns b for a bytea column, NULL when empty.
func blob(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return b
}

// raw turns a scanned bytea into a RawMessage (nil for NULL or empty).
func raw(b []byte) json.RawMessage {
	if len(b) == 0 {
		return nil
	}
	return json.RawMessage(b)
}

const instanceCols = `id, number, flow_id, flow_version, applicant, status, form, step_index, step_id, created_at, updated_at, closed_at, last_urge_at, rev`

func scanInstance(s pgx.Row) (*flows.Instance, error) {
	in := &flows.Instance{}
	var status string
	var form []byte
	err := s.Scan(&in.ID, &in.Number, &in.FlowID, &in.FlowVersion, &in.Applicant, &status,
		&form, &in.StepIndex, &in.StepID, &in.CreatedAt, &in.UpdatedAt,
		&in.ClosedAt, &in.LastUrgeAt, &in.Rev)
	if err != nil {
		return nil, err
	}
	in.Status, in.Form = flows.Status(status), raw(form)
	utc(&in.CreatedAt)
	utc(&in.UpdatedAt)
	nutc(&in.ClosedAt)
	nutc(&in.LastUrgeAt)
	return in, nil
}

const taskCols = `id, instance_id, step_id, seq, assignee, status, comment, decided_by, auto, created_at, started_at, decided_at, remind_at, escalate_at, timeout_at, due_at, reminders, escalated, from_user, note, on_behalf_of`

func scanTask(s pgx.Row) (*flows.Task, error) {
	t := &flows.Task{}
	var status string
	err := s.Scan(&t.ID, &t.InstanceID, &t.StepID, &t.Seq, &t.Assignee, &status, &t.Comment, &t.DecidedBy,
		&t.Auto, &t.CreatedAt, &t.StartedAt, &t.DecidedAt, &t.RemindAt,
		&t.EscalateAt, &t.TimeoutAt, &t.DueAt, &t.Reminders, &t.Escalated, &t.From, &t.Note, &t.OnBehalfOf)
	if err != nil {
		return nil, err
	}
	t.Status = flows.TaskStatus(status)
	utc(&t.CreatedAt)
	for _, p := range []**time.Time{&t.StartedAt, &t.DecidedAt, &t.RemindAt, &t.EscalateAt, &t.TimeoutAt, &t.DueAt} {
		nutc(p)
	}
	return t, nil
}

func taskArgs(tk *flows.Task) []any {
	return []any{tk.InstanceID, tk.StepID, tk.Seq, tk.Assignee, string(tk.Status), tk.Comment, tk.DecidedBy,
		tk.Auto, ms(tk.CreatedAt), nms(tk.StartedAt), nms(tk.DecidedAt), nms(tk.RemindAt), nms(tk.EscalateAt),
		nms(tk.TimeoutAt), nms(tk.DueAt), tk.Reminders, tk.Escalated, tk.From, tk.Note, tk.OnBehalfOf}
}

const eventCols = `id, instance_id, task_id, flow_id, step_id, type, actor, auto, data, at`

func scanEvent(s pgx.Row) (*flows.Event, error) {
	e := &flows.Event{}
	var typ string
	var data []byte
	err := s.Scan(&e.ID, &e.InstanceID, &e.TaskID, &e.FlowID, &e.StepID, &typ, &e.Actor, &e.Auto, &data, &e.At)
	if err != nil {
		return nil, err
	}
	e.Type, e.Data = flows.EventType(typ), raw(data)
	utc(&e.At)
	return e, nil
}

const outboxCols = `id, kind, recipient, instance_id, task_id, step_id, data, status, attempts, next_at, last_error, created_at, delivered_at`

func scanOutbox(s pgx.Row) (*flows.OutboxMessage, error) {
	m := &flows.OutboxMessage{}
	var kind, status string
	var data []byte
	err := s.Scan(&m.ID, &kind, &m.Recipient, &m.InstanceID, &m.TaskID, &m.StepID, &data,
		&status, &m.Attempts, &m.NextAt, &m.LastError, &m.CreatedAt, &m.DeliveredAt)
	if err != nil {
		return nil, err
	}
	m.Kind, m.Status, m.Data = flows.MsgKind(kind), flows.OutboxStatus(status), raw(data)
	utc(&m.NextAt)
	utc(&m.CreatedAt)
	nutc(&m.DeliveredAt)
	return m, nil
}

// collect reads every row of rows with scan.
func collect[T any](rows pgx.Rows, scan func(pgx.Row) (T, error)) ([]T, error) {
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (T, error) { return scan(r) })
}
