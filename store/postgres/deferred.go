package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Deferred statements (group commit only). Inside a lane's batch, the
// inserts an operation makes without needing an answer from the server
// (instances, tasks, events, outbox messages: their ids are taken ahead
// from the tables' identity sequences), its updates of instances and
// tasks (their row count is checked when they run: an instance whose
// revision moved fails the operation with flows.ErrConflict, which the
// engine retries, as when the update was sent at once) and the savepoint
// statements are not sent at once: they wait in the operation's queue and go to the
// server in one round trip together with the next statement that needs an
// answer (a read, an update whose row count matters, the id refill), or at
// the end of the operation. Statements run in the order the operation
// made them, so its reads see its own writes. A deferred statement that
// fails fails the operation: the statement carrying it gets its error,
// and the operation is not kept even if its function ignores that error.
//
// Ids are taken per lane transaction and dropped at its end (used or
// not), so an id is never committed later than the transaction that took
// it: readers paging events by id see the same ordering as when each
// insert took its own id.

// Tables with ids taken ahead, indexes into DB.seqs and deferred.ids.
const (
	seqInstances = iota
	seqTasks
	seqEvents
	seqOutbox
	nSeqs
)

var seqTables = [nSeqs]string{"instances", "tasks", "events", "outbox"}

// minIDs is the smallest number of ids taken at once from a sequence.
const minIDs = 4

// qBegin starts a lane's transaction.
const qBegin = `BEGIN READ WRITE`

// pending is one statement waiting to be sent.
type pending struct {
	what string // for errors: "append event of instance 3"
	sql  string
	args []any
	// sp: its failure loses the transaction (a savepoint statement, or
	// held rows of earlier operations).
	sp bool
	// check, when set, reads and judges the statement's outcome (an
	// update that must change a row) instead of Exec.
	check func(pgx.BatchResults) error
}

// deferred is a lane transaction's queue and ids. It outlives the
// operations of one batch; reset clears it for the next.
type deferred struct {
	stmts []pending
	ids   [nSeqs][]int64
	used  [nSeqs]int // ids used in this batch
	want  [nSeqs]int // ids to take at the next refill
	// err is the first failure of a deferred statement of the current
	// operation; the operation is not kept when it is set.
	err error
	// fatal is set when a savepoint statement failed: the transaction can
	// no longer be used.
	fatal error
	// spSent: the current operation's savepoint was executed.
	spSent bool
	// txSent: the batch's BEGIN was executed.
	txSent bool
	// h holds the batch's events and outbox messages (held.go).
	h held
}

// reset drops the queue and the ids left; the next batch takes as many ids
// at first as this one used.
func (d *deferred) reset() {
	d.stmts = d.stmts[:0]
	for i := range d.ids {
		d.ids[i] = nil
		d.want[i] = max(minIDs, d.used[i])
		d.used[i] = 0
	}
	d.err, d.fatal, d.spSent, d.txSent = nil, nil, false, false
	d.h.reset()
}

// begin starts an operation: its savepoint statements are queued.
func (d *deferred) begin(release bool) {
	d.stmts = d.stmts[:0]
	d.err, d.spSent = nil, false
	d.h.begin()
	if !d.txSent {
		d.stmts = append(d.stmts, pending{what: "begin write transaction", sql: qBegin, sp: true})
	}
	if release {
		d.stmts = append(d.stmts, pending{what: "release savepoint", sql: `RELEASE SAVEPOINT op`, sp: true})
	}
	d.stmts = append(d.stmts, pending{what: "savepoint", sql: `SAVEPOINT op`, sp: true})
}

// queue adds a statement to send later, or runs it now outside a lane.
func (t *tx) queue(what, sql string, args ...any) error {
	if t.d == nil {
		if _, err := t.tx.Exec(t.ctx, sql, args...); err != nil {
			return fmt.Errorf("%s: %w", what, mapErr(err))
		}
		return nil
	}
	t.d.stmts = append(t.d.stmts, pending{what: what, sql: sql, args: args})
	return nil
}

// queueChecked is queue for a statement whose outcome check judges, when
// it is run (in a lane: at the operation's next round trip). It reports
// false outside a lane: the caller runs the statement itself.
func (t *tx) queueChecked(what, sql string, check func(pgx.BatchResults) error, args ...any) bool {
	if t.d == nil {
		return false
	}
	t.d.stmts = append(t.d.stmts, pending{what: what, sql: sql, args: args, check: check})
	return true
}

// flush sends the queued statements, if any, in one round trip.
func (t *tx) flush() error {
	if t.d == nil || len(t.d.stmts) == 0 {
		return nil
	}
	return t.send("", nil, nil)
}

// send sends the queued statements and then q (when not empty) in one
// batch; read reads q's result before the batch is closed.
func (t *tx) send(q string, args []any, read func(pgx.BatchResults) error) error {
	d := t.d
	if d.fatal != nil {
		return d.fatal
	}
	b := &pgx.Batch{}
	for _, p := range d.stmts {
		b.Queue(p.sql, p.args...)
	}
	if q != "" {
		b.Queue(q, args...)
	}
	sent := d.stmts
	d.stmts = nil
	br := t.tx.SendBatch(t.ctx, b)
	for _, p := range sent {
		var err error
		if p.check != nil {
			err = p.check(br)
		} else {
			_, err = br.Exec()
		}
		if err != nil {
			_ = br.Close()
			err = fmt.Errorf("%s (sent with the next statement): %w", p.what, mapErr(err))
			if p.sp {
				d.fatal = err
			} else {
				d.spSent = true
				if d.err == nil {
					d.err = err
				}
			}
			return err
		}
		switch {
		case !p.sp:
		case p.sql == `SAVEPOINT op`:
			d.spSent = true
		case p.sql == qBegin:
			d.txSent = true
		}
	}
	var err error
	if read != nil {
		err = read(br)
	}
	if cerr := br.Close(); err == nil && cerr != nil {
		err = mapErr(cerr)
	}
	return err
}

// exec runs a statement whose answer is needed, after the queued ones.
func (t *tx) exec(sql string, args ...any) (pgconn.CommandTag, error) {
	if t.d == nil || len(t.d.stmts) == 0 {
		return t.tx.Exec(t.ctx, sql, args...)
	}
	var tag pgconn.CommandTag
	err := t.send(sql, args, func(br pgx.BatchResults) error {
		var err error
		tag, err = br.Exec()
		return err
	})
	return tag, err
}

// queryRow is QueryRow after the queued statements; the round trip happens
// at Scan.
func (t *tx) queryRow(sql string, args ...any) pgx.Row {
	return lazyRow{t: t, sql: sql, args: args}
}

type lazyRow struct {
	t    *tx
	sql  string
	args []any
}

func (r lazyRow) Scan(dest ...any) error {
	t := r.t
	if t.d == nil || len(t.d.stmts) == 0 {
		return t.tx.QueryRow(t.ctx, r.sql, r.args...).Scan(dest...)
	}
	return t.send(r.sql, r.args, func(br pgx.BatchResults) error { return br.QueryRow().Scan(dest...) })
}

// queryAll runs a query after the queued statements and scans every row.
func queryAll[T any](t *tx, scan func(pgx.Row) (T, error), sql string, args ...any) ([]T, error) {
	if t.d == nil || len(t.d.stmts) == 0 {
		rows, _ := t.tx.Query(t.ctx, sql, args...)
		return collect(rows, scan)
	}
	var out []T
	err := t.send(sql, args, func(br pgx.BatchResults) error {
		rows, _ := br.Query()
		var err error
		out, err = collect(rows, scan)
		return err
	})
	return out, err
}

// newID returns an id of table seq taken ahead (0, false outside a lane:
// the insert then takes its own).
func (t *tx) newID(seq int) (int64, bool, error) {
	d := t.d
	if d == nil || t.seqs == nil {
		return 0, false, nil
	}
	if len(d.ids[seq]) == 0 {
		if err := t.takeIDs(seq); err != nil {
			return 0, false, err
		}
	}
	id := d.ids[seq][0]
	d.ids[seq] = d.ids[seq][1:]
	d.used[seq]++
	return id, true, nil
}

// takeIDs refills the ids of table seq, and in the same statement those
// of the other tables running low, each with as many as it is expected to
// need (what the previous batch used, doubled at each refill of a batch).
func (t *tx) takeIDs(seq int) error {
	d := t.d
	var seqs []string
	var ns, idx []int32
	for i := range nSeqs {
		if i == seq || len(d.ids[i]) < d.want[i]/2 {
			seqs = append(seqs, t.seqs[i])
			ns = append(ns, int32(max(minIDs, d.want[i])-len(d.ids[i])))
			idx = append(idx, int32(i))
		}
	}
	type row struct {
		i  int
		id int64
	}
	rows, err := queryAll(t, func(r pgx.Row) (row, error) {
		var x row
		err := r.Scan(&x.i, &x.id)
		return x, err
	}, `SELECT x.i, nextval(x.s::regclass) FROM unnest($1::text[], $2::int[], $3::int[]) AS x(s, n, i),
		generate_series(1, x.n) ORDER BY x.i, 2`, seqs, ns, idx)
	if err != nil {
		return fmt.Errorf("take %s ids: %w", seqTables[seq], mapErr(err))
	}
	for _, r := range rows {
		if r.i >= 0 && r.i < nSeqs {
			d.ids[r.i] = append(d.ids[r.i], r.id)
		}
	}
	for _, i := range idx {
		d.want[i] *= 2
	}
	if len(d.ids[seq]) == 0 {
		return errors.New("take " + seqTables[seq] + " ids: none returned")
	}
	return nil
}

// resolveSeqs finds the identity sequences of the tables whose ids are
// taken ahead.
func (db *DB) resolveSeqs(ctx context.Context) error {
	var s [nSeqs]string
	err := db.pool.QueryRow(ctx, `SELECT pg_get_serial_sequence('instances', 'id'), pg_get_serial_sequence('tasks', 'id'),
		pg_get_serial_sequence('events', 'id'), pg_get_serial_sequence('outbox', 'id')`).Scan(&s[0], &s[1], &s[2], &s[3])
	if err != nil {
		return fmt.Errorf("open postgres: find id sequences: %w", err)
	}
	db.seqs = &s
	return nil
}
