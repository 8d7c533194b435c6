// Package flowstest is the conformance suite of flows.Store: every store
// implementation (store/sqlite, store/postgres) calls Run from its tests and
// must pass it unchanged.
//
// It owns the executable meaning of the doc comments in flows/store.go. It
// imports flows and testing libraries only, and is imported only from
// _test.go files.
package flowstest
