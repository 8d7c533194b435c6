package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/bots"
	"github.com/flowbot/flowbot/flows"
	"github.com/flowbot/flowbot/internal/testkit"
)

// A click kept in the inbox by a process that died before handling it
// (answered "processing", then killed) is handled when the next process
// starts: alone on its SQLite file, it replays the inbox at once.
func TestServeReplaysTheInboxAtStart(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t.TempDir())
	first := startApp(t, cfg)
	number := fileLeave(t, first.pg, "hanmeimei", leavePeriod(3), "inbox")
	first.cancel()
	require.NoError(t, <-first.done)
	first.done <- nil // for the cleanup's wait
	first.app.close()

	db := testkit.OpenSQLiteFile(t, cfg.Database.SQLite)
	ctx := context.Background()
	var in *flows.Instance
	require.NoError(t, db.View(ctx, func(tx flows.Tx) error {
		var err error
		in, err = tx.InstanceByNumber(number)
		return err
	}))
	tasks, err := db.Tasks(ctx, flows.TaskFilter{InstanceID: in.ID, Status: []flows.TaskStatus{flows.TaskPending}})
	require.NoError(t, err)
	require.Len(t, tasks, 1)
	task := tasks[0]
	ev := bots.Event{Platform: "web", ID: "ev-kept-by-the-dead", UserID: task.Assignee, ChatID: task.Assignee, ChatType: "p2p",
		Action: &bots.Action{Name: "approve", Value: map[string]string{"task": fmt.Sprint(task.ID), "instance": fmt.Sprint(in.ID)}}}
	raw, err := json.Marshal(ev)
	require.NoError(t, err)
	// Kept just now: its hold has not run out, but the process that had it
	// is dead and this one is alone.
	require.NoError(t, db.Inbox().Keep(ctx, "web:"+ev.ID, raw, time.Now().Add(time.Hour)))
	require.NoError(t, db.Close())

	second := startApp(t, cfg)
	waitFor(t, 20*time.Second, "the kept click to be replayed", func() bool {
		got, err := second.app.store.Instances(ctx, flows.InstanceFilter{Limit: 100})
		if err != nil {
			return false
		}
		for _, x := range got {
			if x.ID == in.ID {
				return x.Status == flows.StatusApproved
			}
		}
		return false
	})
	// The replayer removes the entry just after the handler returned.
	raw2, err := sql.Open("sqlite", cfg.Database.SQLite)
	require.NoError(t, err)
	t.Cleanup(func() { _ = raw2.Close() })
	waitFor(t, 10*time.Second, "the replayed click to leave the inbox", func() bool {
		var n int
		return raw2.QueryRowContext(ctx, `SELECT count(*) FROM inbox`).Scan(&n) == nil && n == 0
	})
	var approvals int
	require.NoError(t, raw2.QueryRowContext(ctx, `SELECT count(*) FROM events WHERE instance_id = ? AND type = 'approved'`, in.ID).Scan(&approvals))
	require.Equal(t, 1, approvals, "the kept click was handled once")
}
