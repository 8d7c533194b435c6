package sqlite

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/flowbot/flowbot/flows"
)

// inList appends " AND col IN (?, ?...)" for vals to where.
func inList[T ~string](where *strings.Builder, args *[]any, col string, vals []T) {
	if len(vals) == 0 {
		return
	}
	where.WriteString(" AND " + col + " IN (")
	for i, v := range vals {
		if i > 0 {
			where.WriteString(", ")
		}
		where.WriteString("?")
		*args = append(*args, string(v))
	}
	where.WriteString(")")
}

// Instances returns the instances matching f, newest first.
func (db *DB) Instances(ctx context.Context, f flows.InstanceFilter) ([]*flows.Instance, error) {
	if f.Limit < 0 {
		return nil, fmt.Errorf("list instances: negative limit %d", f.Limit)
	}
	var w strings.Builder
	var args []any
	w.WriteString(`SELECT ` + instanceCols + ` FROM instances WHERE 1 = 1`)
	if f.Applicant != "" {
		w.WriteString(" AND applicant = ?")
		args = append(args, f.Applicant)
	}
	if f.FlowID != "" {
		w.WriteString(" AND flow_id = ?")
		args = append(args, f.FlowID)
	}
	inList(&w, &args, "status", f.Status)
	if !f.Since.IsZero() {
		w.WriteString(" AND created_at >= ?")
		args = append(args, ms(f.Since))
	}
	if f.BeforeID != 0 {
		w.WriteString(" AND (created_at < ? OR (created_at = ? AND id < ?))")
		args = append(args, ms(f.BeforeAt), ms(f.BeforeAt), f.BeforeID)
	}
	w.WriteString(" ORDER BY created_at DESC, id DESC LIMIT ?")
	args = append(args, cmpOr(f.Limit, 100))
	rows, err := db.query(ctx, w.String(), args...)
	if err != nil {
		return nil, fmt.Errorf("list instances: %w", err)
	}
	ins, err := collect(rows, scanInstance)
	if err != nil {
		return nil, fmt.Errorf("list instances: %w", err)
	}
	return ins, nil
}

// Tasks returns the tasks matching f, ordered by id.
func (db *DB) Tasks(ctx context.Context, f flows.TaskFilter) ([]*flows.Task, error) {
	if f.Limit < 0 {
		return nil, fmt.Errorf("list tasks: negative limit %d", f.Limit)
	}
	var w strings.Builder
	var args []any
	w.WriteString(`SELECT ` + taskCols + ` FROM tasks WHERE 1 = 1`)
	if f.Assignee != "" {
		w.WriteString(" AND assignee = ?")
		args = append(args, f.Assignee)
	}
	if f.InstanceID != 0 {
		w.WriteString(" AND instance_id = ?")
		args = append(args, f.InstanceID)
	}
	inList(&w, &args, "status", f.Status)
	w.WriteString(" ORDER BY id LIMIT ?")
	args = append(args, cmpOr(f.Limit, 100))
	rows, err := db.query(ctx, w.String(), args...)
	if err != nil {
		return nil, fmt.Errorf("list tasks: %w", err)
	}
	ts, err := collect(rows, scanTask)
	if err != nil {
		return nil, fmt.Errorf("list tasks: %w", err)
	}
	return ts, nil
}

// Events returns the events matching f in order (by id).
func (db *DB) Events(ctx context.Context, f flows.EventFilter) ([]*flows.Event, error) {
	if f.Limit < 0 {
		return nil, fmt.Errorf("list events: negative limit %d", f.Limit)
	}
	var w strings.Builder
	var args []any
	w.WriteString(`SELECT ` + eventCols + ` FROM events WHERE id > ?`)
	args = append(args, f.AfterID)
	if f.InstanceID != 0 {
		w.WriteString(" AND instance_id = ?")
		args = append(args, f.InstanceID)
	}
	if f.FlowID != "" {
		w.WriteString(" AND flow_id = ?")
		args = append(args, f.FlowID)
	}
	inList(&w, &args, "type", f.Types)
	if !f.Since.IsZero() {
		w.WriteString(" AND at >= ?")
		args = append(args, ms(f.Since))
	}
	if !f.Until.IsZero() {
		w.WriteString(" AND at < ?")
		args = append(args, ms(f.Until))
	}
	w.WriteString(" ORDER BY id LIMIT ?")
	args = append(args, cmpOr(f.Limit, 1000))
	rows, err := db.query(ctx, w.String(), args...)
	if err != nil {
		return nil, fmt.Errorf("list events: %w", err)
	}
	es, err := collect(rows, scanEvent)
	if err != nil {
		return nil, fmt.Errorf("list events: %w", err)
	}
	return es, nil
}

func cmpOr(v, def int) int {
	if v <= 0 {
		return def
	}
	return v
}

// ClaimOutbox returns up to limit (<= 0: 100) pending messages with
// NextAt <= now, oldest first, and moves their NextAt to now+lease, in one
// write transaction.
func (db *DB) ClaimOutbox(ctx context.Context, now time.Time, limit int, lease time.Duration) ([]*flows.OutboxMessage, error) {
	if lease <= 0 {
		return nil, fmt.Errorf("claim outbox: lease must be positive, got %s", lease)
	}
	limit = cmpOr(limit, 100)
	until := now.Add(lease)
	var out []*flows.OutboxMessage
	err := db.write(ctx, func(t *tx) error {
		rows, err := t.query(`SELECT `+outboxCols+` FROM outbox WHERE status = 'pending' AND next_at <= ? ORDER BY next_at, id LIMIT ?`, ms(now), limit)
		if err != nil {
			return err
		}
		if out, err = collect(rows, scanOutbox); err != nil || len(out) == 0 {
			return err
		}
		// One prepared UPDATE per message: claims are a few messages, and
		// a statement with a list of as many ids would be compiled for
		// every length.
		for _, m := range out {
			if _, err := t.exec(`UPDATE outbox SET next_at = ? WHERE id = ?`, ms(until), m.ID); err != nil {
				return err
			}
			m.NextAt = fromMS(ms(until))
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("claim outbox: %w", err)
	}
	return out, nil
}

// ExtendClaim moves the lease of claimed message id from its current end
// from to to, and reports whether the message was still claimed with that
// end (false: delivered, retried, failed or claimed again since, by this
// process or another). A to at or before now releases the claim: the
// message is due again at once.
func (db *DB) ExtendClaim(ctx context.Context, id int64, from, to time.Time) (bool, error) {
	var ok bool
	err := db.write(ctx, func(t *tx) error {
		res, err := t.exec(`UPDATE outbox SET next_at = ? WHERE id = ? AND status = 'pending' AND next_at = ?`, ms(to), id, ms(from))
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		ok = n == 1
		return err
	})
	if err != nil {
		return false, fmt.Errorf("extend claim of message %d: %w", id, err)
	}
	return ok, nil
}

// MarkDelivered marks message id delivered at at.
func (db *DB) MarkDelivered(ctx context.Context, id int64, at time.Time) error {
	return db.execOne(ctx, "mark message "+fmt.Sprint(id)+" delivered",
		`UPDATE outbox SET status = 'delivered', delivered_at = ? WHERE id = ?`, ms(at), id)
}

// MarkRetry records a failed attempt: Attempts+1, LastError, NextAt.
func (db *DB) MarkRetry(ctx context.Context, id int64, next time.Time, errText string) error {
	return db.execOne(ctx, "mark message "+fmt.Sprint(id)+" for retry",
		`UPDATE outbox SET attempts = attempts + 1, last_error = ?, next_at = ? WHERE id = ?`, errText, ms(next), id)
}

// MarkFailed records the last failed attempt: Attempts+1, LastError,
// status failed.
func (db *DB) MarkFailed(ctx context.Context, id int64, errText string) error {
	return db.execOne(ctx, "mark message "+fmt.Sprint(id)+" failed",
		`UPDATE outbox SET status = 'failed', attempts = attempts + 1, last_error = ? WHERE id = ?`, errText, id)
}

// execOne runs a write that must change exactly one row (else ErrNotFound).
func (db *DB) execOne(ctx context.Context, what, q string, args ...any) error {
	err := db.write(ctx, func(t *tx) error {
		res, err := t.exec(q, args...)
		if err != nil {
			return mapErr(err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return err
		}
		if n == 0 {
			return flows.ErrNotFound
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

// Outbox lists messages with status (empty: any), newest first.
func (db *DB) Outbox(ctx context.Context, status flows.OutboxStatus, limit int) ([]*flows.OutboxMessage, error) {
	switch status {
	case "", flows.OutboxPending, flows.OutboxDelivered, flows.OutboxFailed:
	default:
		return nil, fmt.Errorf("list outbox: unknown status %q", status)
	}
	q := `SELECT ` + outboxCols + ` FROM outbox`
	var args []any
	if status != "" {
		q += ` WHERE status = ?`
		args = append(args, string(status))
	}
	q += ` ORDER BY id DESC LIMIT ?`
	args = append(args, cmpOr(limit, 100))
	rows, err := db.query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list outbox: %w", err)
	}
	ms, err := collect(rows, scanOutbox)
	if err != nil {
		return nil, fmt.Errorf("list outbox: %w", err)
	}
	return ms, nil
}

// OutboxDepth counts pending messages.
func (db *DB) OutboxDepth(ctx context.Context) (int, error) {
	var n int
	if err := db.queryRow(ctx, `SELECT count(*) FROM outbox WHERE status = 'pending'`).Scan(&n); err != nil {
		return 0, fmt.Errorf("count outbox: %w", err)
	}
	return n, nil
}

// SaveMessageRef records a sent card; saving the same ref again is a no-op.
func (db *DB) SaveMessageRef(ctx context.Context, ref *flows.MessageRef) error {
	if err := checkRef(ref); err != nil {
		return err
	}
	err := db.write(ctx, func(t *tx) error {
		return insertRef(t, ref)
	})
	if err != nil {
		return fmt.Errorf("save message ref of instance %d: %w", ref.InstanceID, mapErr(err))
	}
	return nil
}

// checkRef refuses a ref that cannot be saved.
func checkRef(ref *flows.MessageRef) error {
	if ref == nil {
		return errors.New("save message ref: nil ref")
	}
	if ref.Platform == "" || ref.Ref == "" {
		return fmt.Errorf("save message ref of instance %d: empty platform or ref", ref.InstanceID)
	}
	return nil
}

// MessageRefs returns the refs of taskID of an instance (taskID 0: all refs
// of the instance) in the order saved.
func (db *DB) MessageRefs(ctx context.Context, instanceID int64, taskID int64) ([]*flows.MessageRef, error) {
	if refs, ok := db.refs.get(instanceID, taskID); ok {
		return refs, nil
	}
	gen := db.refs.generation()
	rows, err := db.query(ctx, `SELECT instance_id, task_id, recipient, platform, ref, created_at, kind, data FROM message_refs WHERE instance_id = ? ORDER BY id`, instanceID)
	if err != nil {
		return nil, fmt.Errorf("list message refs of instance %d: %w", instanceID, err)
	}
	refs, err := collect(rows, func(s scanner) (*flows.MessageRef, error) {
		r := &flows.MessageRef{}
		var data string
		if err := s.Scan(&r.InstanceID, &r.TaskID, &r.Recipient, &r.Platform, &r.Ref, msTime{&r.CreatedAt}, &r.Kind, &data); err != nil {
			return nil, err
		}
		if data != "" {
			r.Data = json.RawMessage(data)
		}
		return r, nil
	})
	if err != nil {
		return nil, fmt.Errorf("list message refs of instance %d: %w", instanceID, err)
	}
	db.refs.read(instanceID, refs, gen)
	if taskID == 0 {
		return refs, nil
	}
	return slices.DeleteFunc(refs, func(r *flows.MessageRef) bool { return r.TaskID != taskID }), nil
}
