package sqlite

import "context"

// What runs as the writer's transactions commit: the functions an
// operation asked to run after its commit (AfterCommit), and the check,
// as each write transaction begins, for commits made by another process
// (OnForeignWrite). Both run on the writer goroutine, in commit order.

// AfterCommit runs fn once the write transaction committed, on the
// writer: before the messages it wrote are handed over and before any
// later write begins (flows.AfterCommitter). fn must be quick and must
// not use the store. A write that fails or rolls back never runs it; in
// a read transaction it is never run.
func (t *tx) AfterCommit(fn func()) {
	if t.req != nil {
		t.req.after = append(t.req.after, fn)
	}
}

// OnForeignWrite has fn called when the writer finds that a connection
// other than its own (another process: a command run beside flowbot
// serve) committed to the database. The call is made on the writer, as
// its next write transaction begins, before that transaction's writes
// run: what the engine keeps of the requests it wrote (AfterCommit) is
// then forgotten before any message of those other writes is claimed.
// Reads made meanwhile can show that kept state (until the next write,
// at most a poll of the notifier). fn must be quick and must not use the
// store.
func (db *DB) OnForeignWrite(fn func()) { db.foreign.Store(&fn) }

// checkForeign empties the caches kept of what this process wrote
// (refcache.go) and calls the OnForeignWrite function when data_version
// moved since the last check: another connection committed.
func (db *DB) checkForeign(c *dconn) {
	var v int64
	if err := c.queryRow(context.Background(), `PRAGMA data_version`).Scan(&v); err != nil {
		db.log.Warn("sqlite data_version", "err", err)
		v = -1 // unknown: counted as a change
	}
	if v == db.dataVersion && v >= 0 {
		return
	}
	if db.dataVersion != 0 {
		db.refs.clear()
		if fn := db.foreign.Load(); fn != nil {
			db.runAfter(*fn)
		}
	}
	db.dataVersion = v
}

// afterCommit runs the AfterCommit functions of the kept requests of a
// committed batch.
func (db *DB) afterCommit(batch []*writeReq) {
	for _, r := range batch {
		if !r.kept {
			continue
		}
		for _, fn := range r.after {
			db.runAfter(fn)
		}
		r.after = nil
	}
}

// runAfter runs fn, logging a panic: the writer goes on.
func (db *DB) runAfter(fn func()) {
	defer func() {
		if p := recover(); p != nil {
			db.log.Error("sqlite after-commit function panicked", "panic", p)
		}
	}()
	fn()
}
