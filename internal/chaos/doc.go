// Package chaos drives a running `flowbot serve` the way its platforms do
// and checks what came out: the load generator of cmd/flowbot-load and the
// chaos suite (kills, freezes and restarts of a real process) share it.
//
// Events go over the real protocols: signed, encrypted Feishu webhooks
// built by adapters/feishu/feishutest, whose fake also receives what
// flowbot sends (behind a proxy that counts every create call before the
// fake de-duplicates it by uuid), and the playground's web API for
// withdrawals. Final states are read from the SQLite database, read-only,
// or from the replicas' PostgreSQL database. Servers starts a private
// PostgreSQL and Redis that a run may kill and restart under load.
//
// It imports no package of flowbot but the Feishu fake and the example
// company: it sees the product only from the outside.
package chaos
