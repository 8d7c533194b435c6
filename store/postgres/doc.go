// Package postgres implements flows.Store on PostgreSQL with pgx (pgxpool),
// for running several flowbot replicas against one database.
//
// The schema (migrations/*.sql, embedded) keeps the table and column names
// of store/sqlite; times are timestamptz at millisecond precision and come
// back in UTC; form and event data are bytea, returned byte for byte.
// Migrations run at Open under a session advisory lock keyed by the current
// schema, so replicas starting together apply each migration once.
//
// Concurrency: Update runs at READ COMMITTED; Tx.UpdateInstance is an
// optimistic write (WHERE id = $1 AND rev = $2) that reports
// flows.ErrConflict when the revision moved. Unique violations,
// serialization failures and deadlocks are flows.ErrConflict too; missing
// rows are flows.ErrNotFound. ClaimOutbox takes messages with
// FOR UPDATE SKIP LOCKED, so concurrent notifiers never get the same
// message within its lease.
//
// Group commit (writer.go): Update hands its function to one of a few
// writer lanes; a lane runs every operation waiting, each in a savepoint,
// in one transaction and answers the callers after its COMMIT. A failed
// operation is rolled back to its savepoint alone. WithWriteLanes(0) turns
// it off. Inside a batch, an operation's inserts (ids taken ahead from
// the identity sequences), its instance and task updates (row counts
// checked when they run) and its savepoints wait and go to the server
// with its next statement that needs an answer, in one round trip
// (deferred.go); BEGIN goes with the first of them. The events and outbox
// messages of the whole batch are held and inserted by one multi-row
// statement per table, sent with the COMMIT (held.go).
//
// View runs on one pool connection without BEGIN and COMMIT when the
// server's default isolation is READ COMMITTED (the same snapshots), and
// its Task read fetches the task's instance and sibling tasks in the same
// round trip for the Instance and TasksOf calls that follow (prefetch.go).
// MarkDeliveredWithRefs records a delivery and its card refs in one
// statement (delivery.go).
//
// Users by id are cached in memory (dircache.go): emptied by this store's
// ReplaceDirectory at once, and within a second of another replica's
// through a stamp in the sequences table.
//
// This package imports flows for its types and never imports bots,
// adapters or cmd.
package postgres
