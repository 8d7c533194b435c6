package fakecli

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"sync"
)

// Writer serialises prints from several goroutines.
type Writer struct {
	mu sync.Mutex
	w  io.Writer
}

// NewWriter returns a Writer printing to w.
func NewWriter(w io.Writer) *Writer { return &Writer{w: w} }

// Printf prints under the writer's lock.
func (s *Writer) Printf(format string, a ...any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	fmt.Fprintf(s.w, format, a...)
}

// Serve calls do with each line read from in, one at a time, until in
// ends or ctx is done.
func Serve(ctx context.Context, in io.Reader, do func(line string)) error {
	lines := make(chan string)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(in)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			case <-ctx.Done():
				return
			}
		}
	}()
	for {
		select {
		case <-ctx.Done():
			return nil
		case line, ok := <-lines:
			if !ok {
				return nil
			}
			do(line)
		}
	}
}
