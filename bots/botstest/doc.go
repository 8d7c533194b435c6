// Package botstest holds the conformance suites for the small storage
// interfaces the chat layer declares in package bots: StateStore, Deduper
// and Locker. Every implementation (store/sqlite, store/redis, ...) runs
// them from its own tests:
//
//	func TestStateStore(t *testing.T) {
//		t.Parallel()
//		botstest.RunStateStore(t, func(t *testing.T) bots.StateStore { return open(t) })
//	}
//
// The suites use the wall clock with short TTLs (about a second) and poll
// with deadlines; their subtests run in parallel, so a whole suite takes a
// few seconds. Keys are unique per run, so a newStore that hands out one
// shared store (one Redis database) works too.
//
// This package is imported only from _test.go files. It imports bots and
// testify, nothing else of this repository.
package botstest
