package flowstats_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/flows"
	"github.com/flowbot/flowbot/flows/flowstats"
	"github.com/flowbot/flowbot/store/sqlite"
)

// TestUpdateFromSQLiteMatchesTheLog folds a generated history read from a
// real SQLite file (EventsForStats) and compares it with the same history
// folded from memory; the fast read returns exactly what Events returns,
// odd data included.
func TestUpdateFromSQLiteMatchesTheLog(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "f.db"), sqlite.WithLogger(slog.New(slog.DiscardHandler)))
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	p := planted
	p.Requests = 400
	evs, tr := generate(p, origin)
	odd := []json.RawMessage{nil, json.RawMessage(`{"comment":"a|b\u001fc \"q\" 中文\n"}`), json.RawMessage(`{}`)}
	for i, o := range odd {
		evs = append(evs, &flows.Event{InstanceID: 900000 + int64(i), FlowID: "other", StepID: "s|1", Type: flows.EvCommented, Actor: "名字", Auto: i == 1, Data: o, At: origin})
	}
	require.NoError(t, db.ReplaceDirectory(ctx, tr.users, nil))
	require.NoError(t, db.Update(ctx, func(tx flows.Tx) error {
		for _, e := range evs {
			c := *e
			if err := tx.AppendEvent(&c); err != nil {
				return err
			}
		}
		return nil
	}))
	for after := int64(0); ; {
		want, err := db.Events(ctx, flows.EventFilter{AfterID: after, Limit: 700})
		require.NoError(t, err)
		got, err := db.EventsForStats(ctx, after, 700)
		require.NoError(t, err)
		require.Equal(t, want, got)
		if len(want) < 700 {
			break
		}
		after = want[len(want)-1].ID
	}
	_, err = db.EventsForStats(ctx, 0, 0)
	require.Error(t, err, "a limit of 0 is refused")

	fromDB := flowstats.NewAggregate(nil)
	n, err := fromDB.Update(ctx, db)
	require.NoError(t, err)
	require.Equal(t, len(evs), n)
	mem := flowstats.NewAggregate(nil)
	mem.SetDirectory(tr.users)
	for i, e := range evs {
		e.ID = int64(i + 1)
	}
	mem.Apply(evs...)
	require.Equal(t, mem.Summary(flowstats.Filter{}), fromDB.Summary(flowstats.Filter{}))
	require.Equal(t, mem.Summary(flowstats.Filter{FlowID: "purchase", Dept: "sales"}), fromDB.Summary(flowstats.Filter{FlowID: "purchase", Dept: "sales"}))
}
