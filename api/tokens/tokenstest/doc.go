// Package tokenstest is the conformance suite of tokens.Store: every
// implementation (store/sqlite, store/postgres) runs Run against a real,
// empty database.
package tokenstest
