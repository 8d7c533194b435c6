package sqlite_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/flowbot/flowbot/flows"
)

// BenchmarkProductCalls measures the store calls the product makes around
// the engine, one caller at a time (each write is a group commit of one):
//
//   - Dedupe: a chat event's FirstSeen then Confirm (two writes);
//
//   - StateSet: a conversation state Set (one write);
//
//   - Outbox: a message enqueued, claimed, and marked delivered with one
//     card ref (three writes), what the notifier does per message;
//
//   - View: a read transaction reading a request and its tasks;
//
//   - UserByPlatform: a chat sender's lookup.
//
//     go test ./store/sqlite -run '^$' -bench ProductCalls -benchmem
func BenchmarkProductCalls(b *testing.B) {
	ctx := context.Background()
	db, _ := MustOpen(b)
	require := func(err error) {
		b.Helper()
		if err != nil {
			b.Fatal(err)
		}
	}
	now := time.Date(2026, 12, 6, 8, 0, 0, 0, time.UTC)
	require(db.ReplaceDirectory(ctx, []*flows.User{{ID: "alice", Name: "Alice", Platforms: map[string]string{"feishu": "ou_alice"}}}, nil))
	var inID int64
	require(db.Update(ctx, func(tx flows.Tx) error {
		in := &flows.Instance{Number: "P-1", FlowID: "leave", Applicant: "alice", Status: flows.StatusPending, CreatedAt: now, UpdatedAt: now}
		if err := tx.CreateInstance(in); err != nil {
			return err
		}
		inID = in.ID
		for i := range 2 {
			if err := tx.CreateTask(&flows.Task{InstanceID: in.ID, StepID: "mgr", Seq: i, Assignee: "bob", Status: flows.TaskPending, CreatedAt: now}); err != nil {
				return err
			}
		}
		return nil
	}))

	b.Run("Dedupe", func(b *testing.B) {
		d := db.Deduper().(interface {
			FirstSeen(context.Context, string, time.Duration) (bool, error)
			Confirm(context.Context, string, time.Duration) error
		})
		i := 0
		for b.Loop() {
			i++
			key := "evt-" + strconv.Itoa(i)
			first, err := d.FirstSeen(ctx, key, time.Hour)
			require(err)
			if !first {
				b.Fatalf("%s seen before", key)
			}
			require(d.Confirm(ctx, key, time.Hour))
		}
	})
	b.Run("StateSet", func(b *testing.B) {
		st := db.StateStore()
		val := []byte(`{"step":"reason","form":{"days":3}}`)
		i := 0
		for b.Loop() {
			i++
			require(st.Set(ctx, "conv-"+strconv.Itoa(i%64), val, time.Hour))
		}
	})
	b.Run("Outbox", func(b *testing.B) {
		for b.Loop() {
			require(db.Update(ctx, func(tx flows.Tx) error {
				return tx.Enqueue(&flows.OutboxMessage{Kind: flows.MsgTask, Recipient: "bob", InstanceID: inID, NextAt: now, CreatedAt: now})
			}))
			ms, err := db.ClaimOutbox(ctx, now, 10, time.Minute)
			require(err)
			if len(ms) != 1 {
				b.Fatalf("claimed %d messages, want 1", len(ms))
			}
			require(db.MarkDeliveredWithRefs(ctx, ms[0].ID, now, []*flows.MessageRef{{InstanceID: inID, Recipient: "bob", Platform: "feishu", Ref: "om_" + strconv.FormatInt(ms[0].ID, 10), CreatedAt: now}}))
		}
	})
	b.Run("View", func(b *testing.B) {
		for b.Loop() {
			require(db.View(ctx, func(tx flows.Tx) error {
				if _, err := tx.Instance(inID); err != nil {
					return err
				}
				ts, err := tx.TasksOf(inID)
				if err == nil && len(ts) != 2 {
					b.Fatalf("got %d tasks, want 2", len(ts))
				}
				return err
			}))
		}
	})
	b.Run("UserByPlatform", func(b *testing.B) {
		for b.Loop() {
			u, err := db.UserByPlatform(ctx, "feishu", "ou_alice")
			require(err)
			if u.ID != "alice" {
				b.Fatalf("got user %s", u.ID)
			}
		}
	})
}
