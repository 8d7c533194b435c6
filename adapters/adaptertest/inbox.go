package adaptertest

import (
	"context"
	"sync"

	"github.com/flowbot/flowbot/bots"
)

// Inbox stands in for the bot's inbox of late events: it records, in
// order, "keep <event id>" and "done <event id>", and fails Keep with
// KeepErr when set.
type Inbox struct {
	KeepErr error

	mu    sync.Mutex
	calls []string
	done  chan string
}

// Keep records the keeping of ev.
func (in *Inbox) Keep(_ context.Context, ev bots.Event) error {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.calls = append(in.calls, "keep "+ev.ID)
	return in.KeepErr
}

// Done records that ev's handler returned.
func (in *Inbox) Done(_ context.Context, ev bots.Event) error {
	in.mu.Lock()
	in.calls = append(in.calls, "done "+ev.ID)
	ch := in.doneC()
	in.mu.Unlock()
	select {
	case ch <- ev.ID:
	default:
	}
	return nil
}

// DoneC receives the id of each event marked done (buffered; a full
// buffer drops the signal, not the record).
func (in *Inbox) DoneC() <-chan string {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.doneC()
}

func (in *Inbox) doneC() chan string {
	if in.done == nil {
		in.done = make(chan string, 16)
	}
	return in.done
}

// Calls returns the calls recorded so far.
func (in *Inbox) Calls() []string {
	in.mu.Lock()
	defer in.mu.Unlock()
	return append([]string(nil), in.calls...)
}
