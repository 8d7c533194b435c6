package sqlite

import (
	"context"
	"fmt"
	"time"

	"github.com/flowbot/flowbot/flows"
)

// MarkDeliveredWithRefs marks message id delivered at at and records the
// refs of the cards it sent (saving a ref again is a no-op), in one write:
// the notifier's record of a delivery costs one transaction, not one per
// card plus one. A message not in the outbox is flows.ErrNotFound and
// nothing is written.
func (db *DB) MarkDeliveredWithRefs(ctx context.Context, id int64, at time.Time, refs []*flows.MessageRef) error {
	for _, r := range refs {
		if r == nil || r.Platform == "" || r.Ref == "" {
			return fmt.Errorf("mark message %d delivered: a card ref without platform or ref", id)
		}
	}
	err := db.write(ctx, func(t *tx) error {
		res, err := t.exec(`UPDATE outbox SET status = 'delivered', delivered_at = ? WHERE id = ?`, ms(at), id)
		if err != nil {
			return mapErr(err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return flows.ErrNotFound
		}
		for _, r := range refs {
			if err := insertRef(t, r); err != nil {
				return mapErr(err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("mark message %d delivered with %d card refs: %w", id, len(refs), err)
	}
	return nil
}

// insertRef records r; a ref saved before (the same card) is kept as it
// was, with the kind it was first sent as.
func insertRef(t *tx, r *flows.MessageRef) error {
	res, err := t.exec(`INSERT INTO message_refs (instance_id, task_id, recipient, platform, ref, created_at, kind, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
		r.InstanceID, r.TaskID, r.Recipient, r.Platform, r.Ref, ms(r.CreatedAt), string(r.Kind), string(r.Data))
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n == 1 {
		kept := *r
		t.AfterCommit(func() { t.db.refs.added(kept) })
	}
	return nil
}
