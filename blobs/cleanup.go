package blobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// Ledger remembers the blobs kept but not yet known to belong to a
// request. A store of the application implements it (store/sqlite,
// store/postgres: table blob_uploads).
type Ledger interface {
	// Kept records key as kept at at.
	Kept(ctx context.Context, key string, at time.Time) error
	// Uploads returns up to limit keys recorded before before, oldest
	// first, each saying whether a request names it (in its form or its
	// history).
	Uploads(ctx context.Context, before time.Time, limit int) ([]Upload, error)
	// Forget removes keys from the ledger.
	Forget(ctx context.Context, keys []string) error
}

// Upload is a key of the Ledger.
type Upload struct {
	Key string
	// Named: a request names the key; it is an attachment, not an orphan.
	Named bool
}

// DefaultRetention is how long an uploaded file that no request names is
// kept before the Cleaner deletes it: longer than any conversation or
// form that could still submit it.
const DefaultRetention = 24 * time.Hour

// Cleaner deletes orphan blobs: files uploaded (sent in a chat, uploaded
// in the playground) that were never part of a submitted request, once
// they are older than Retention.
type Cleaner struct {
	Store     Store
	Ledger    Ledger
	Retention time.Duration // 0: DefaultRetention
	Every     time.Duration // how often Run sweeps; 0: an hour
	Batch     int           // keys per round; 0: 200
	Now       func() time.Time
	Log       *slog.Logger
}

// Sweep deletes every orphan recorded before now-Retention and reports
// how many it deleted. A blob is deleted before its key is forgotten: a
// process killed between the two finds the key again, and deleting a
// missing blob is no error.
func (c *Cleaner) Sweep(ctx context.Context) (int, error) {
	if c.Store == nil || c.Ledger == nil {
		return 0, errors.New("blobs: cleaner needs a store and a ledger")
	}
	retention, batch, now := c.Retention, c.Batch, time.Now
	if retention <= 0 {
		retention = DefaultRetention
	}
	if batch <= 0 {
		batch = 200
	}
	if c.Now != nil {
		now = c.Now
	}
	before := now().Add(-retention)
	deleted := 0
	for {
		ups, err := c.Ledger.Uploads(ctx, before, batch)
		if err != nil {
			return deleted, fmt.Errorf("list orphan attachments: %w", err)
		}
		// Named keys are forgotten with the deleted ones: either way the
		// next round starts after them.
		var gone []string
		var errs []error
		for _, u := range ups {
			k := u.Key
			if u.Named {
				gone = append(gone, k)
				continue
			}
			if err := checkKey(k); err != nil {
				gone = append(gone, k) // not a blob key: nothing to delete
				continue
			}
			if err := c.Store.Delete(ctx, k); err != nil {
				errs = append(errs, fmt.Errorf("delete orphan attachment %s: %w", k, err))
				continue
			}
			gone = append(gone, k)
			deleted++
		}
		if len(gone) > 0 {
			if err := c.Ledger.Forget(ctx, gone); err != nil {
				return deleted, fmt.Errorf("forget %d deleted attachments: %w", len(gone), err)
			}
		}
		if len(errs) > 0 {
			return deleted, errors.Join(errs...)
		}
		if len(ups) < batch {
			return deleted, nil
		}
	}
}

// Run sweeps at start and then every Every until ctx ends; failures are
// logged and tried again at the next sweep.
func (c *Cleaner) Run(ctx context.Context) {
	every := c.Every
	if every <= 0 {
		every = time.Hour
	}
	log := c.Log
	if log == nil {
		log = slog.Default()
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		n, err := c.Sweep(ctx)
		if err != nil && ctx.Err() == nil {
			log.WarnContext(ctx, "orphan attachments not all deleted", "deleted", n, "err", err)
		} else if n > 0 {
			log.InfoContext(ctx, "orphan attachments deleted", "deleted", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
