// Package webhookstest is the conformance suite of webhooks.Store: every
// store that keeps webhook deliveries (store/sqlite, store/postgres) runs
// Run against a real database. Imported only from _test.go files.
package webhookstest
