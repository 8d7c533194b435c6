package dirsynctest

import (
	"context"
	"log/slog"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/bots/dirsync"
)

// Applier is the directory an adapter's change-event tests hand their
// adapter: it applies each event through a real Syncer, set once the
// adapter and its fake platform exist, and counts the events applied.
// Before Set it answers dirsync.ErrNoBaseline, as serve does before the
// first full sync.
type Applier struct {
	mu      sync.Mutex
	s       *dirsync.Syncer
	applied int
}

// Set makes s the Syncer events are applied through.
func (a *Applier) Set(s *dirsync.Syncer) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.s = s
}

// ApplyEvent applies ev through the Syncer (the app is not used).
func (a *Applier) ApplyEvent(ctx context.Context, _ string, ev dirsync.Event) error {
	a.mu.Lock()
	s := a.s
	a.mu.Unlock()
	if s == nil {
		return dirsync.ErrNoBaseline
	}
	if _, err := s.ApplyEvent(ctx, ev); err != nil {
		return err
	}
	a.mu.Lock()
	a.applied++
	a.mu.Unlock()
	return nil
}

// Applied is the number of events applied so far.
func (a *Applier) Applied() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.applied
}

// Start runs the first full sync of src into st (the baseline events
// apply to) and then applies events through that Syncer. The example
// company synced whole: nobody departed, no conflict.
func (a *Applier) Start(t testing.TB, st dirsync.Store, dep dirsync.Departer, src dirsync.Source) *dirsync.Syncer {
	t.Helper()
	s := dirsync.New(dirsync.Config{Store: st, Sources: []dirsync.Source{src}, Rate: 1000, Departer: dep, Logger: slog.New(slog.DiscardHandler)})
	p, err := s.Run(t.Context())
	require.NoError(t, err)
	require.Empty(t, p.Departed)
	require.Empty(t, p.Conflicts)
	a.Set(s)
	return s
}
