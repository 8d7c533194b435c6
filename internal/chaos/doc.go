// Package chaos drives a running `flowbot serve` the way its platforms do
// and checks what came out: the load generator of cmd/flowbot-load and the
// chaos suite (kills, freezes and restarts of a real process) share it.
//
// Events go over the real protocols: signed, encrypted Feishu webhooks
// built by adapters/feishu/feishutest, whose fake also receives what
// flowbot sends (behind a front that counts every create call before the
// fake de-duplicates it by uuid), and the playground's web API for
// withdrawals, or, in a web run (Config.Platform "web"), for the whole
// cycle as a browser makes it, cards taken from the users' event streams.
// A wait for a card is signalled when the card is shown, never polled.
// Run accounts the CPU both sides used while the load ran (the server's
// from /proc, the load generator's from getrusage). Final states are read from the SQLite database, read-only,
// or from the replicas' PostgreSQL database. Servers starts a private
// PostgreSQL and Redis that a run may kill and restart under load.
//
// It imports no package of flowbot but the Feishu fake and the example
// company: it sees the product only from the outside.
package chaos
