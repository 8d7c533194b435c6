// Package tokens owns API tokens: the record kept for each (a name, the
// scopes, the user it acts for, its expiry, revocation and last use), how a
// secret is made and hashed, how scopes are parsed and checked, and the
// Store interface that store/sqlite and store/postgres implement (their
// conformance suite is tokens/tokenstest).
//
// The secret is shown once, when the token is created; only its SHA-256 is
// stored. It imports nothing of this repository.
package tokens
