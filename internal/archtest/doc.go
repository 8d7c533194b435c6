// Package archtest owns the check that the import arrows of DESIGN.md point
// inward: cmd -> adapters -> bots -> flows, cmd -> store -> flows/bots.
// It has no code beside its test.
package archtest
