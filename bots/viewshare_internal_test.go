package bots

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/flows"
)

// The cases a delivery meets in a ViewShare: another's read under way
// (waited for, then a copy), that read failing (read alone), a read begun
// before the message was claimed (never used), and the waiter giving up.
func TestViewShareBegin(t *testing.T) {
	ctx := context.Background()
	var none *ViewShare
	v, finish := none.begin(ctx, 1, 1)
	require.Nil(t, v, "no share: read alone")
	finish(nil)

	s := NewViewShare()
	since := s.Mark()
	v, finish = s.begin(ctx, 1, since)
	require.Nil(t, v, "the first reads")
	got := make(chan *flows.View)
	go func() {
		w, _ := s.begin(ctx, 1, since)
		got <- w
	}()
	select {
	case <-got:
		t.Fatal("the second did not wait for the read under way")
	case <-time.After(20 * time.Millisecond):
	}
	read := &flows.View{Instance: &flows.Instance{ID: 1, Rev: 3}}
	finish(read)
	w := <-got
	require.NotNil(t, w, "the second is given the first's read")
	require.NotSame(t, read, w, "as a copy of its own")
	require.Equal(t, int64(3), w.Instance.Rev)

	later := s.Mark() // a message claimed after that read began
	v, finish = s.begin(ctx, 1, later)
	require.Nil(t, v, "a read begun before the claim is not used")
	go func() {
		w, _ := s.begin(ctx, 1, later)
		got <- w
	}()
	time.Sleep(20 * time.Millisecond)
	finish(nil) // the read failed
	require.Nil(t, <-got, "its waiter reads alone")

	v, finish = s.begin(ctx, 2, later)
	require.Nil(t, v)
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	w, _ = s.begin(cctx, 2, later)
	require.Nil(t, w, "a waiter whose context ended stops waiting")
	finish(nil)
}
