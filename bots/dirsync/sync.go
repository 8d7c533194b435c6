package dirsync

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/flowbot/flowbot/flows"
)

// Store is what a sync needs: the directory and a place for its progress.
type Store interface {
	Users(ctx context.Context) ([]*flows.User, error)
	Departments(ctx context.Context) ([]*flows.Department, error)
	ReplaceDirectory(ctx context.Context, users []*flows.User, depts []*flows.Department) error
	StateStore
}

// StateStore keeps the progress of a sync per source.
type StateStore interface {
	// SyncState returns the saved cursor and data, flows.ErrNotFound when
	// no sync of source is in progress.
	SyncState(ctx context.Context, source string) (cursor string, data []byte, err error)
	SaveSyncState(ctx context.Context, source, cursor string, data []byte) error
	ClearSyncState(ctx context.Context, source string) error
}

// Config configures a Syncer.
type Config struct {
	Store   Store
	Sources []Source // in priority order: the first source of a person gives their name, department and manager
	// Mapping links accounts to users by hand: "feishu:ou_1" -> "lilei".
	// It wins over email and mobile matching.
	Mapping map[string]string
	// DeptMapping maps platform departments to directory departments:
	// "feishu:od_1" -> "eng" (see Mapping.Depts).
	DeptMapping map[string]string
	// Rate is the pace of page requests per source (default 5 per second).
	Rate rate.Limit
	// Retries is how often a rate-limited page is retried (default 5).
	Retries int
	// Wait sleeps d or until ctx ends (default a timer); tests replace it
	// so that rate-limit waits take no time.
	Wait   func(ctx context.Context, d time.Duration) error
	Logger *slog.Logger
	// Departer routes the tasks and delegations of the users a change
	// event departs (nil: ApplyEvent only writes the directory).
	Departer Departer
	// Lock, when set, is taken around each ApplyEvent so that no other
	// writer of the directory (the scheduled sync, the API, another
	// replica) interleaves; unset, ApplyEvent calls of one Syncer are
	// serialised.
	Lock func(ctx context.Context) (unlock func(), err error)
}

// Syncer fetches the sources and merges them into the directory.
type Syncer struct {
	cfg Config
	log *slog.Logger
	mu  sync.Mutex // serialises ApplyEvent when Config.Lock is unset
}

// New returns a Syncer over cfg.
func New(cfg Config) *Syncer {
	cfg.Rate = cmp.Or(cfg.Rate, 5)
	cfg.Retries = cmp.Or(cfg.Retries, 5)
	if cfg.Wait == nil {
		cfg.Wait = sleep
	}
	return &Syncer{cfg: cfg, log: cmp.Or(cfg.Logger, slog.Default()).WithGroup("dirsync")}
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func (s *Syncer) mapping() Mapping { return Mapping{Users: s.cfg.Mapping, Depts: s.cfg.DeptMapping} }

// Snapshot is everything one source listed.
type Snapshot struct {
	Platform string   `json:"platform"`
	People   []Person `json:"people"`
	Depts    []Dept   `json:"depts"`
	Done     bool     `json:"done"`
	Pages    int      `json:"pages"`
	// Seen is, per account ("p:"+id) and department ("d:"+id), the time
	// (Unix ms) of the newest change event applied since the listing; an
	// older event arriving later (a platform's retry) is stale.
	Seen map[string]int64 `json:"seen,omitempty"`
}

// Fetch reads every source to the end, resuming a sync that stopped, and
// saving its progress after every page.
func (s *Syncer) Fetch(ctx context.Context) ([]*Snapshot, error) {
	if len(s.cfg.Sources) == 0 {
		return nil, errors.New("directory sync: no sources configured")
	}
	seen := map[string]bool{}
	var snaps []*Snapshot
	for _, src := range s.cfg.Sources {
		if seen[src.Platform()] {
			return nil, fmt.Errorf("directory sync: platform %s configured twice", src.Platform())
		}
		seen[src.Platform()] = true
		snap, err := s.fetchOne(ctx, src)
		if err != nil {
			return nil, err
		}
		snaps = append(snaps, snap)
	}
	return snaps, nil
}

func (s *Syncer) fetchOne(ctx context.Context, src Source) (*Snapshot, error) {
	key := src.Platform()
	snap := &Snapshot{Platform: key}
	cursor, data, err := s.cfg.Store.SyncState(ctx, key)
	switch {
	case errors.Is(err, flows.ErrNotFound):
		cursor = ""
	case err != nil:
		return nil, fmt.Errorf("load progress of %s: %w", key, err)
	default:
		if err := json.Unmarshal(data, snap); err != nil {
			return nil, fmt.Errorf("decode progress of %s: %w", key, err)
		}
		s.log.InfoContext(ctx, "resuming directory sync", "platform", key, "pages", snap.Pages, "done", snap.Done)
	}
	lim := rate.NewLimiter(s.cfg.Rate, 1)
	for !snap.Done {
		var page Page
		for try := 0; ; try++ {
			if err := lim.Wait(ctx); err != nil {
				return nil, fmt.Errorf("fetch %s: %w", key, err)
			}
			page, err = src.Fetch(ctx, Cursor{Token: cursor, Depts: snap.Depts})
			rl, limited := IsRateLimited(err)
			if !limited {
				break
			}
			if try >= s.cfg.Retries {
				return nil, fmt.Errorf("fetch %s page %d: still rate limited after %d retries: %w", key, snap.Pages+1, try, err)
			}
			wait := rl.After
			if wait <= 0 {
				wait = time.Second << try
			}
			s.log.InfoContext(ctx, "rate limited, waiting", "platform", key, "wait", wait)
			if err := s.cfg.Wait(ctx, wait); err != nil {
				return nil, fmt.Errorf("fetch %s: %w", key, err)
			}
		}
		if err != nil {
			return nil, fmt.Errorf("fetch %s page %d: %w", key, snap.Pages+1, err)
		}
		snap.People = append(snap.People, page.People...)
		snap.Depts = append(snap.Depts, page.Depts...)
		snap.Pages++
		snap.Done = page.Next == ""
		if !snap.Done && page.Next == cursor {
			return nil, fmt.Errorf("fetch %s page %d: the platform returned the same cursor %q again", key, snap.Pages, cursor)
		}
		cursor = page.Next
		b, err := json.Marshal(snap)
		if err != nil {
			return nil, fmt.Errorf("encode progress of %s: %w", key, err)
		}
		if err := s.cfg.Store.SaveSyncState(ctx, key, cursor, b); err != nil {
			return nil, fmt.Errorf("save progress of %s: %w", key, err)
		}
	}
	return snap, nil
}

// Plan fetches every source and returns what would change, without
// changing anything (but the saved progress).
func (s *Syncer) Plan(ctx context.Context) (*Plan, error) {
	snaps, err := s.Fetch(ctx)
	if err != nil {
		return nil, err
	}
	users, err := s.cfg.Store.Users(ctx)
	if err != nil {
		return nil, fmt.Errorf("directory sync: %w", err)
	}
	depts, err := s.cfg.Store.Departments(ctx)
	if err != nil {
		return nil, fmt.Errorf("directory sync: %w", err)
	}
	p := MergeMapped(users, depts, snaps, s.mapping())
	p.snaps = snaps
	return p, nil
}

// Apply writes the plan's directory in one replacement, keeps each
// platform's listing as the baseline change events apply to, and clears
// the sync progress, so that the next sync starts from the beginning.
func (s *Syncer) Apply(ctx context.Context, p *Plan) error {
	if err := s.cfg.Store.ReplaceDirectory(ctx, p.Users, p.Depts); err != nil {
		return fmt.Errorf("directory sync: apply: %w", err)
	}
	for _, snap := range p.snaps {
		if err := s.saveBaseline(ctx, snap); err != nil {
			return fmt.Errorf("directory sync: %w", err)
		}
	}
	for _, src := range s.cfg.Sources {
		if err := s.cfg.Store.ClearSyncState(ctx, src.Platform()); err != nil {
			return fmt.Errorf("directory sync: %w", err)
		}
	}
	return nil
}

// Run plans and applies (the scheduled sync).
func (s *Syncer) Run(ctx context.Context) (*Plan, error) {
	p, err := s.Plan(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.Apply(ctx, p); err != nil {
		return nil, err
	}
	s.log.InfoContext(ctx, "directory synced", "changes", len(p.Changes), "conflicts", len(p.Conflicts), "departed", len(p.Departed))
	return p, nil
}

// Reset forgets the progress of every source (after a dry run, so that
// the next sync reads the platforms afresh).
func (s *Syncer) Reset(ctx context.Context) error {
	for _, src := range s.cfg.Sources {
		if err := s.cfg.Store.ClearSyncState(ctx, src.Platform()); err != nil {
			return fmt.Errorf("directory sync: %w", err)
		}
	}
	return nil
}
