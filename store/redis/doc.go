// Package redis keeps the chat layer's short-lived shared state in Redis:
// conversation state (bots.StateStore), event-id dedupe (bots.Deduper) and
// named leases for scheduled jobs (bots.Locker), so that several replicas
// of flowbot share them. It talks to standalone Redis, Sentinel or Cluster
// through go-redis's UniversalClient.
//
// Keys are laid out as <prefix>state:<key>, <prefix>dedupe:<key> and
// <prefix>lock:<name>. A lock's value is its owner; renewing and releasing
// run as Lua scripts that check the owner, so a holder whose lease expired
// can never extend or delete the lease another owner took since.
//
// When Redis cannot be reached every call fails fast with an error wrapping
// ErrUnavailable (Open sets ~500ms dial/read/write timeouts and few
// retries); the same Store recovers on its own when Redis is back.
//
// This package imports bots for its interfaces and never imports flows,
// adapters or cmd.
package redis
