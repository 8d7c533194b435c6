package flows_test

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/flows"
	"github.com/flowbot/flowbot/internal/testkit"
)

// BenchmarkSubmitApprove measures submit + approve cycles of the expense
// flow on a SQLite file.
//
//	go test ./flows -run '^$' -bench SubmitApprove -benchtime 5000x
func BenchmarkSubmitApprove(b *testing.B) {
	bb := setup(b)
	ctx := bb.ctx
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		out, err := bb.engine.Submit(ctx, flows.SubmitRequest{Actor: "dev2", FlowID: "expense", Values: map[string]any{"amount": "120.50"}})
		if err != nil {
			b.Fatal(err)
		}
		var task *flows.Task
		for _, t := range out.Tasks {
			if t.Status == flows.TaskPending {
				task = t
			}
		}
		out, err = bb.engine.Decide(ctx, flows.DecideRequest{Actor: task.Assignee, TaskID: task.ID, Approve: true})
		if err != nil {
			b.Fatal(err)
		}
		if out.Instance.Status != flows.StatusApproved {
			b.Fatalf("got status %s, want approved", out.Instance.Status)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "cycles/s")
}

// BenchmarkTick1M measures one Tick over a store holding 1,000,000 open
// tasks of which 100 are due.
//
//	go test ./flows -run '^$' -bench Tick1M -benchtime 20x
func BenchmarkTick1M(b *testing.B) {
	const instances, perInstance, due = 100_000, 10, 100
	ctx := context.Background()
	db := testkit.OpenSQLiteFile(b, filepath.Join(b.TempDir(), "tick.db"))
	users, depts := testOrg()
	require.NoError(b, db.ReplaceDirectory(ctx, users, depts))
	clk := testkit.NewClock(t0)
	e := flows.New(flows.Config{Store: db, Clock: clk})
	_, v, err := e.PublishFlow(ctx, "leave.yaml", []byte(leaveYAML))
	require.NoError(b, err)

	now := clk.Now()
	far := time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC)
	form := json.RawMessage(`{"type":"annual","period":{"from":"2026-12-01","to":"2026-12-01","days":1}}`)
	const chunk = 10_000
	for start := 0; start < instances; start += chunk {
		err := db.Update(ctx, func(tx flows.Tx) error {
			for i := start; i < start+chunk; i++ {
				in := &flows.Instance{Number: fmt.Sprintf("LEAVE-B-%07d", i), FlowID: "leave", FlowVersion: v, Applicant: "dev1",
					Status: flows.StatusPending, Form: form, StepIndex: 0, StepID: "manager", CreatedAt: now, UpdatedAt: now}
				if err := tx.CreateInstance(in); err != nil {
					return err
				}
				for k := 0; k < perInstance; k++ {
					dueAt := far
					if k == 0 && i%(instances/due) == 0 {
						dueAt = now.Add(4 * time.Hour)
					}
					t := &flows.Task{InstanceID: in.ID, StepID: "manager", Seq: k, Assignee: "cto", Status: flows.TaskPending,
						CreatedAt: now, StartedAt: &now, RemindAt: &dueAt, DueAt: &dueAt}
					if err := tx.CreateTask(t); err != nil {
						return err
					}
				}
			}
			return nil
		})
		require.NoError(b, err)
	}
	b.ResetTimer()
	at := now
	for b.Loop() {
		at = at.Add(5 * time.Hour) // the 100 reminded tasks are due again every 4h
		res, err := e.Tick(ctx, at)
		if err != nil {
			b.Fatal(err)
		}
		if res.Reminded != due {
			b.Fatalf("reminded %d, want %d", res.Reminded, due)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/tick")
}
