// Package testkit owns the helpers that tests of several packages share: a
// settable test clock, a SQLite store in a temporary directory, the example
// company and flows of package examples loaded into a store and an engine,
// in-memory stand-ins for the chat layer's StateStore and Deduper, and a
// store wrapper that counts read transactions.
//
// It is imported only from _test.go files (internal/archtest checks that no
// other package imports it). Helpers that take a testing.TB fail the test on
// error and release what they open in tb.Cleanup.
package testkit
