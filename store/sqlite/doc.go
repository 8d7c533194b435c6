// Package sqlite is flowbot's embedded store: it implements flows.Store and
// the chat layer's bots.StateStore, bots.Deduper and bots.Locker on one
// SQLite file (modernc.org/sqlite, pure Go, WAL mode).
//
// It owns the SQL schema (embedded numbered migrations in migrations/, run at
// Open and by (*DB).Migrate) and the mapping between rows and the flows
// types. It holds no business rules and no clock of its own for flow data:
// every timestamp comes from the engine. Only the key-value helpers (state
// TTLs, dedupe, locks) and the creation time of a flow version read the wall
// clock, because their interfaces carry a TTL and not an instant.
//
// Writes go through one connection (a *sql.DB limited to one open
// connection, transactions begun with BEGIN IMMEDIATE), so writers queue in
// process instead of failing with SQLITE_BUSY. One goroutine owns it for
// the DB's life and commits the waiting writes in groups, each write in a
// savepoint of its own, each caller answered after the COMMIT (writer.go).
// Reads use a separate pool of read-only connections, which WAL lets run
// beside the writer; WAL checkpoints run on a connection of their own, off
// the commit path (checkpoint.go). Users read by id are kept in memory
// (dircache.go). A Taker (the notifier) gets the outbox messages an
// operation writes due now already claimed for it, handed over after the
// COMMIT, so that they need no claim of their own (handoff.go).
//
// Every statement is compiled once per connection. The writer and the read
// transactions (View) run on the driver's own connection through
// sql.Conn.Raw, without database/sql per statement, with a cache of
// prepared statements per connection keyed by the SQL text, BEGIN, COMMIT
// and the savepoints included (dconn.go). The reads outside transactions
// use statements prepared on the reader pool, also kept by text
// (stmts.go).
//
// Do not call the DB's write methods (Update, SaveFlow, ClaimOutbox, the
// key-value helpers...) from inside an Update callback: the writer
// connection is busy with the callback's transaction and the call would wait
// for itself.
//
// The package imports flows and bots for their types; it must not import
// adapters or cmd.
package sqlite
