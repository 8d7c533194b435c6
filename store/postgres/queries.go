package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/flowbot/flowbot/flows"
)

// where builds "WHERE a AND b ..." with numbered parameters.
type where struct {
	conds []string
	args  []any
}

func (w *where) add(cond string, arg any) {
	w.args = append(w.args, arg)
	w.conds = append(w.conds, strings.ReplaceAll(cond, "?", "$"+strconv.Itoa(len(w.args))))
}

func (w *where) sql() string {
	if len(w.conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(w.conds, " AND ")
}

// limit appends a LIMIT parameter and returns its placeholder.
func (w *where) limit(n int) string {
	w.args = append(w.args, n)
	return " LIMIT $" + strconv.Itoa(len(w.args))
}

func strs[T ~string](vs []T) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = string(v)
	}
	return out
}

// Instances returns the instances matching f, newest first.
func (db *DB) Instances(ctx context.Context, f flows.InstanceFilter) ([]*flows.Instance, error) {
	if f.Limit < 0 {
		return nil, fmt.Errorf("list instances: negative limit %d", f.Limit)
	}
	var w where
	if f.Applicant != "" {
		w.add("applicant = ?", f.Applicant)
	}
	if f.FlowID != "" {
		w.add("flow_id = ?", f.FlowID)
	}
	if len(f.Status) > 0 {
		w.add("status = ANY(?)", strs(f.Status))
	}
	if !f.Since.IsZero() {
		w.add("created_at >= ?", ms(f.Since))
	}
	if f.BeforeID != 0 {
		w.add("(created_at, id) < (?, ", ms(f.BeforeAt))
		w.args = append(w.args, f.BeforeID)
		w.conds[len(w.conds)-1] += "$" + strconv.Itoa(len(w.args)) + ")"
	}
	q := `SELECT ` + instanceCols + ` FROM instances` + w.sql() + ` ORDER BY created_at DESC, id DESC` + w.limit(cmpOr(f.Limit, 100))
	rows, _ := db.pool.Query(ctx, q, w.args...)
	ins, err := collect(rows, scanInstance)
	if err != nil {
		return nil, fmt.Errorf("list instances: %w", mapErr(err))
	}
	return ins, nil
}

// Tasks returns the tasks matching f, ordered by id.
func (db *DB) Tasks(ctx context.Context, f flows.TaskFilter) ([]*flows.Task, error) {
	if f.Limit < 0 {
		return nil, fmt.Errorf("list tasks: negative limit %d", f.Limit)
	}
	var w where
	if f.Assignee != "" {
		w.add("assignee = ?", f.Assignee)
	}
	if f.InstanceID != 0 {
		w.add("instance_id = ?", f.InstanceID)
	}
	if len(f.Status) > 0 {
		w.add("status = ANY(?)", strs(f.Status))
	}
	q := `SELECT ` + taskCols + ` FROM tasks` + w.sql() + ` ORDER BY id` + w.limit(cmpOr(f.Limit, 100))
	rows, _ := db.pool.Query(ctx, q, w.args...)
	ts, err := collect(rows, scanTask)
	if err != nil {
		return nil, fmt.Errorf("list tasks: %w", mapErr(err))
	}
	return ts, nil
}

// Events returns the events matching f in order (by id).
func (db *DB) Events(ctx context.Context, f flows.EventFilter) ([]*flows.Event, error) {
	if f.Limit < 0 {
		return nil, fmt.Errorf("list events: negative limit %d", f.Limit)
	}
	var w where
	w.add("id > ?", f.AfterID)
	if f.InstanceID != 0 {
		w.add("instance_id = ?", f.InstanceID)
	}
	if f.FlowID != "" {
		w.add("flow_id = ?", f.FlowID)
	}
	if len(f.Types) > 0 {
		w.add("type = ANY(?)", strs(f.Types))
	}
	if !f.Since.IsZero() {
		w.add("at >= ?", ms(f.Since))
	}
	if !f.Until.IsZero() {
		w.add("at < ?", ms(f.Until))
	}
	q := `SELECT ` + eventCols + ` FROM events` + w.sql() + ` ORDER BY id` + w.limit(cmpOr(f.Limit, 1000))
	rows, _ := db.pool.Query(ctx, q, w.args...)
	es, err := collect(rows, scanEvent)
	if err != nil {
		return nil, fmt.Errorf("list events: %w", mapErr(err))
	}
	return es, nil
}

// ClaimOutbox returns up to limit (<= 0: 100) pending messages with
// NextAt <= now, oldest first, and moves their NextAt to now+lease in the
// same statement. Rows another claimer has locked are skipped (FOR UPDATE
// SKIP LOCKED), and a row whose lease a concurrent claimer just moved is
// re-checked against next_at <= now, so no message goes to two claimers
// within its lease.
func (db *DB) ClaimOutbox(ctx context.Context, now time.Time, limit int, lease time.Duration) ([]*flows.OutboxMessage, error) {
	if lease <= 0 {
		return nil, fmt.Errorf("claim outbox: lease must be positive, got %s", lease)
	}
	if limit < 0 {
		return nil, fmt.Errorf("claim outbox: negative limit %d", limit)
	}
	until := ms(now.Add(lease))
	rows, _ := db.pool.Query(ctx, `WITH c AS (
			SELECT id, next_at FROM outbox
			WHERE status = 'pending' AND next_at <= $1
			ORDER BY next_at, id LIMIT $2
			FOR UPDATE SKIP LOCKED)
		UPDATE outbox o SET next_at = $3, claimed_by = $4, claimed_run = $5 FROM c WHERE o.id = c.id
		RETURNING c.next_at, `+prefixCols("o.", outboxCols), ms(now), cmpOr(limit, 100), until, nullable(db.owner.Instance), nullable(db.owner.Run))
	type claimed struct {
		was time.Time
		m   *flows.OutboxMessage
	}
	cs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (claimed, error) {
		var c claimed
		var err error
		c.m, err = scanOutbox(prefixScan{r, &c.was})
		return c, err
	})
	if err != nil {
		return nil, fmt.Errorf("claim outbox: %w", mapErr(err))
	}
	sort.Slice(cs, func(i, j int) bool {
		if !cs[i].was.Equal(cs[j].was) {
			return cs[i].was.Before(cs[j].was)
		}
		return cs[i].m.ID < cs[j].m.ID
	})
	out := make([]*flows.OutboxMessage, len(cs))
	for i, c := range cs {
		out[i] = c.m
	}
	return out, nil
}

// prefixScan scans one extra leading column into first, the rest as asked.
type prefixScan struct {
	r     pgx.Row
	first any
}

func (p prefixScan) Scan(dest ...any) error { return p.r.Scan(append([]any{p.first}, dest...)...) }

func prefixCols(prefix, cols string) string {
	parts := strings.Split(cols, ", ")
	for i := range parts {
		parts[i] = prefix + parts[i]
	}
	return strings.Join(parts, ", ")
}

// ExtendClaim moves the lease of claimed message id from its current end
// from to to, and reports whether the message was still claimed with that
// end (false: delivered, retried, failed or claimed again since, by this
// process or another). A to at or before now releases the claim: the
// message is due again at once.
func (db *DB) ExtendClaim(ctx context.Context, id int64, from, to time.Time) (bool, error) {
	tag, err := db.pool.Exec(ctx, `UPDATE outbox SET next_at = $1 WHERE id = $2 AND status = 'pending' AND next_at = $3`, ms(to), id, ms(from))
	if err != nil {
		return false, fmt.Errorf("extend claim of message %d: %w", id, mapErr(err))
	}
	return tag.RowsAffected() == 1, nil
}

// MarkDelivered marks message id delivered at at.
func (db *DB) MarkDelivered(ctx context.Context, id int64, at time.Time) error {
	return db.execOne(ctx, "mark message "+strconv.FormatInt(id, 10)+" delivered",
		`UPDATE outbox SET status = 'delivered', delivered_at = $1, claimed_by = NULL, claimed_run = NULL WHERE id = $2`, ms(at), id)
}

// MarkRetry records a failed attempt: Attempts+1, LastError, NextAt.
func (db *DB) MarkRetry(ctx context.Context, id int64, next time.Time, errText string) error {
	return db.execOne(ctx, "mark message "+strconv.FormatInt(id, 10)+" for retry",
		`UPDATE outbox SET attempts = attempts + 1, last_error = $1, next_at = $2, claimed_by = NULL, claimed_run = NULL WHERE id = $3`, errText, ms(next), id)
}

// MarkFailed records the last failed attempt: Attempts+1, LastError,
// status failed.
func (db *DB) MarkFailed(ctx context.Context, id int64, errText string) error {
	return db.execOne(ctx, "mark message "+strconv.FormatInt(id, 10)+" failed",
		`UPDATE outbox SET status = 'failed', attempts = attempts + 1, last_error = $1, claimed_by = NULL, claimed_run = NULL WHERE id = $2`, errText, id)
}

// execOne runs a write that must change exactly one row (else ErrNotFound).
func (db *DB) execOne(ctx context.Context, what, q string, args ...any) error {
	tag, err := db.pool.Exec(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("%s: %w", what, mapErr(err))
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("%s: %w", what, flows.ErrNotFound)
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
	var w where
	if status != "" {
		w.add("status = ?", string(status))
	}
	q := `SELECT ` + outboxCols + ` FROM outbox` + w.sql() + ` ORDER BY id DESC` + w.limit(cmpOr(limit, 100))
	rows, _ := db.pool.Query(ctx, q, w.args...)
	out, err := collect(rows, scanOutbox)
	if err != nil {
		return nil, fmt.Errorf("list outbox: %w", mapErr(err))
	}
	return out, nil
}

// OutboxDepth counts pending messages.
func (db *DB) OutboxDepth(ctx context.Context) (int, error) {
	var n int
	if err := db.pool.QueryRow(ctx, `SELECT count(*) FROM outbox WHERE status = 'pending'`).Scan(&n); err != nil {
		return 0, fmt.Errorf("count outbox: %w", mapErr(err))
	}
	return n, nil
}

// SaveMessageRef records a sent card; saving the same ref again is a no-op.
func (db *DB) SaveMessageRef(ctx context.Context, ref *flows.MessageRef) error {
	if ref == nil {
		return errors.New("save message ref: nil ref")
	}
	if ref.Platform == "" || ref.Ref == "" {
		return fmt.Errorf("save message ref of instance %d: empty platform or ref", ref.InstanceID)
	}
	_, err := db.pool.Exec(ctx, `INSERT INTO message_refs (instance_id, task_id, recipient, platform, ref, created_at, kind, data)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING`,
		ref.InstanceID, ref.TaskID, ref.Recipient, ref.Platform, ref.Ref, ms(ref.CreatedAt), string(ref.Kind), string(ref.Data))
	if err != nil {
		return fmt.Errorf("save message ref of instance %d: %w", ref.InstanceID, mapErr(err))
	}
	return nil
}

// MessageRefs returns the refs of taskID of an instance (taskID 0: all refs
// of the instance) in the order saved.
func (db *DB) MessageRefs(ctx context.Context, instanceID int64, taskID int64) ([]*flows.MessageRef, error) {
	var w where
	w.add("instance_id = ?", instanceID)
	if taskID != 0 {
		w.add("task_id = ?", taskID)
	}
	rows, _ := db.pool.Query(ctx, `SELECT instance_id, task_id, recipient, platform, ref, created_at, kind, data FROM message_refs`+w.sql()+` ORDER BY id`, w.args...)
	refs, err := collect(rows, func(s pgx.Row) (*flows.MessageRef, error) {
		r := &flows.MessageRef{}
		var data string
		if err := s.Scan(&r.InstanceID, &r.TaskID, &r.Recipient, &r.Platform, &r.Ref, &r.CreatedAt, &r.Kind, &data); err != nil {
			return nil, err
		}
		if data != "" {
			r.Data = json.RawMessage(data)
		}
		utc(&r.CreatedAt)
		return r, nil
	})
	if err != nil {
		return nil, fmt.Errorf("list message refs of instance %d: %w", instanceID, mapErr(err))
	}
	return refs, nil
}
