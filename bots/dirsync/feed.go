package dirsync

import (
	"context"
	"errors"
	"fmt"

	"github.com/flowbot/flowbot/flows"
)

// Feed is a platform's change feed that is polled rather than pushed
// (Microsoft Graph's delta query): a link returns the changes since it was
// issued, page by page.
type Feed interface {
	// Platform is the directory key of the accounts (as Source.Platform).
	Platform() string
	// Changes returns the page of changes at link ("" = start a new
	// feed: the platform's current state, which Poll skips).
	Changes(ctx context.Context, link string) (ChangePage, error)
}

// ChangePage is one answer of a Feed: Next is the link of the following
// page while the platform has more now, Delta the link to poll later once
// the last page was read (exactly one of them is set).
type ChangePage struct {
	Events []Event
	Next   string
	Delta  string
}

func feedKey(platform string) string { return platform + "#feed" }

// PollResult is what one Poll did.
type PollResult struct {
	Applied  int      // events applied
	Departed []string // users departed by them, their tasks routed
	Started  bool     // the feed was started (its current state skipped)
}

// Poll reads f from where the previous poll stopped and applies each
// change with ApplyEvent. The first poll starts the feed: it walks the
// platform's current state without applying it (the full sync is the
// baseline) and keeps the link it ends with. The link is saved after every
// page, so a poll that failed resumes at the page it failed on; applying a
// page twice changes nothing. A platform that rejects the saved link (it
// expired) is an error: reset the feed with ResetFeed and let the next
// full sync catch up.
func (s *Syncer) Poll(ctx context.Context, f Feed) (*PollResult, error) {
	key := feedKey(f.Platform())
	link, _, err := s.cfg.Store.SyncState(ctx, key)
	res := &PollResult{}
	switch {
	case errors.Is(err, flows.ErrNotFound):
		link, res.Started = "", true
	case err != nil:
		return nil, fmt.Errorf("poll %s: load the feed link: %w", f.Platform(), err)
	}
	for range 10000 {
		page, err := f.Changes(ctx, link)
		if err != nil {
			return res, fmt.Errorf("poll %s: %w", f.Platform(), err)
		}
		if (page.Next == "") == (page.Delta == "") {
			return res, fmt.Errorf("poll %s: a page must end with either a next or a delta link", f.Platform())
		}
		if !res.Started {
			for _, ev := range page.Events {
				ev.Platform = f.Platform()
				r, err := s.ApplyEvent(ctx, ev)
				if err != nil {
					return res, fmt.Errorf("poll %s: %w", f.Platform(), err)
				}
				res.Applied++
				res.Departed = append(res.Departed, r.Departed...)
			}
		}
		link = page.Next
		if link == "" {
			link = page.Delta
		}
		if err := s.cfg.Store.SaveSyncState(ctx, key, link, nil); err != nil {
			return res, fmt.Errorf("poll %s: save the feed link: %w", f.Platform(), err)
		}
		if page.Delta != "" {
			s.log.InfoContext(ctx, "change feed polled", "platform", f.Platform(), "applied", res.Applied, "started", res.Started)
			return res, nil
		}
	}
	return res, fmt.Errorf("poll %s: more than 10000 pages", f.Platform())
}

// ResetFeed forgets the feed's link: the next Poll starts it anew.
func (s *Syncer) ResetFeed(ctx context.Context, platform string) error {
	if err := s.cfg.Store.ClearSyncState(ctx, feedKey(platform)); err != nil {
		return fmt.Errorf("reset the change feed of %s: %w", platform, err)
	}
	return nil
}
