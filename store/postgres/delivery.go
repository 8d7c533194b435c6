package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/flowbot/flowbot/flows"
)

// MarkDeliveredWithRefs marks message id delivered at at and records the
// refs of the cards it sent (saving a ref again is a no-op), in one write:
// one statement whose refs are inserted only when the message was marked,
// so the notifier's record of a delivery costs one round trip, not one per
// card plus one. A message not in the outbox is flows.ErrNotFound and
// nothing is written.
func (db *DB) MarkDeliveredWithRefs(ctx context.Context, id int64, at time.Time, refs []*flows.MessageRef) error {
	n := len(refs)
	inst, task := make([]int64, 0, n), make([]int64, 0, n)
	rcpt, plat, ref := make([]string, 0, n), make([]string, 0, n), make([]string, 0, n)
	kind, data := make([]string, 0, n), make([]string, 0, n)
	created := make([]time.Time, 0, n)
	for _, r := range refs {
		if r == nil || r.Platform == "" || r.Ref == "" {
			return fmt.Errorf("mark message %d delivered: a card ref without platform or ref", id)
		}
		inst, task = append(inst, r.InstanceID), append(task, r.TaskID)
		rcpt, plat, ref = append(rcpt, r.Recipient), append(plat, r.Platform), append(ref, r.Ref)
		created = append(created, ms(r.CreatedAt))
		kind, data = append(kind, string(r.Kind)), append(data, string(r.Data))
	}
	var marked int
	err := db.pool.QueryRow(ctx, `WITH u AS (
		UPDATE outbox SET status = 'delivered', delivered_at = $1, claimed_by = NULL, claimed_run = NULL
		WHERE id = $2 RETURNING 1
	), r AS (
		INSERT INTO message_refs (instance_id, task_id, recipient, platform, ref, created_at, kind, data)
		SELECT * FROM unnest($3::bigint[], $4::bigint[], $5::text[], $6::text[], $7::text[], $8::timestamptz[], $9::text[], $10::text[])
		WHERE EXISTS (SELECT 1 FROM u)
		ON CONFLICT DO NOTHING
	) SELECT count(*) FROM u`, ms(at), id, inst, task, rcpt, plat, ref, created, kind, data).Scan(&marked)
	if err == nil && marked == 0 {
		err = flows.ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("mark message %d delivered with %d card refs: %w", id, n, mapErr(err))
	}
	return nil
}
