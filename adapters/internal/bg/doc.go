// Package bg owns the background work of an adapter: the goroutines that
// finish an event after the platform got its answer (a slow click answered
// "processing", a card updated after the callback returned). Close stops
// accepting new work, lets the work already acknowledged finish within a
// grace period and only then cancels it.
//
// It imports nothing of this repository; adapters share it as they share
// adapters/internal/seen.
package bg
