package main

import (
	"fmt"
	"io"
	"sync"
)

// syncWriter serialises the prints of the command loop and of the fake's
// message hook.
type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) printf(format string, args ...any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	fmt.Fprintf(s.w, format, args...)
}
