package bg_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/adapters/internal/bg"
)

// Work acknowledged before Close finishes with a live context when it
// ends within the grace: Close waits for it.
func TestCloseLetsWorkFinishWithinGrace(t *testing.T) {
	t.Parallel()
	g := bg.New()
	release := make(chan struct{})
	started := make(chan struct{})
	var errAtEnd error
	require.True(t, g.Go(func(ctx context.Context) {
		close(started)
		<-release
		errAtEnd = ctx.Err()
	}))
	<-started
	closed := make(chan bool)
	go func() { closed <- g.Close(time.Minute) }()
	// Close is waiting for the work: new work is refused meanwhile.
	for !g.Closed() {
		time.Sleep(time.Millisecond)
	}
	ran := make(chan error, 1)
	require.False(t, g.Go(func(ctx context.Context) { ran <- ctx.Err() }), "Go after Close must report false")
	require.ErrorIs(t, <-ran, context.Canceled, "work started after Close runs with a cancelled context")
	select {
	case <-closed:
		t.Fatal("Close returned before the acknowledged work finished")
	default:
	}
	close(release)
	require.True(t, <-closed, "got Close = false, want true: the work ended within the grace")
	require.NoError(t, errAtEnd, "the work was cancelled although it finished within the grace")
}

// Work that outlives the grace is cancelled, and Close still waits for it
// to return.
func TestCloseCancelsWorkPastGrace(t *testing.T) {
	t.Parallel()
	g := bg.New()
	returned := make(chan struct{})
	g.Go(func(ctx context.Context) {
		<-ctx.Done()
		close(returned)
	})
	require.False(t, g.Close(time.Millisecond), "got Close = true, want false: the work outlived the grace")
	select {
	case <-returned:
	default:
		t.Fatal("Close returned before the cancelled work returned")
	}
}

// A zero grace cancels at once; a second Close is harmless.
func TestCloseZeroGraceAndTwice(t *testing.T) {
	t.Parallel()
	g := bg.New()
	require.True(t, g.Close(0), "nothing running: everything finished")
	g2 := bg.New()
	g2.Go(func(ctx context.Context) { <-ctx.Done() })
	require.False(t, g2.Close(0))
	require.True(t, g2.Close(0), "second Close: nothing left running")
}
