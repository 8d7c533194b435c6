package postgres

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// Held rows (group commit only). Inside a lane's batch, the events and
// outbox messages its operations write are not inserted by one statement
// each: their rows are held in the lane and inserted just before the
// COMMIT by one multi-row statement per table (INSERT … SELECT FROM
// unnest of one array per column), so the server parses, plans and
// executes two statements per batch instead of one per row. Neither
// table has a foreign key or a unique column besides the id taken ahead,
// and text PostgreSQL cannot store (NUL, invalid UTF-8) is refused when
// the row is made (checkText), so the multi-row inserts cannot fail
// because of one operation's row; if they fail all the same (the
// connection broke), the whole batch is rolled back and every operation
// gets flows.ErrConflict, as when the transaction is lost.
//
// An operation that reads events (EventsOf) first sends the rows held so
// far, inside its savepoint: if it then fails, its savepoint's rollback
// also undoes the rows of earlier operations it sent, so those are held
// again (held.failed), and a failure of that insert loses the batch.
// The rows of a failed operation are dropped with it.

// evRow is a held event.
type evRow struct {
	inst, task            int64
	flow, step, typ, actr string
	auto                  bool
	data                  []byte
	at                    time.Time
	id                    int64
}

// obRow is a held outbox message.
type obRow struct {
	kind, rcpt string
	inst, task int64
	step       string
	data       []byte
	next, at   time.Time
	id         int64
}

// heldTable is the held rows of one table.
type heldTable[R any] struct {
	rows []R
	mark int // rows before mark are earlier operations'
	sent int // rows before sent were sent inside the current operation's savepoint
}

func (h *heldTable[R]) begin() { h.mark, h.sent = len(h.rows), 0 }

// kept: the operation is kept; the rows it sent are in the transaction.
func (h *heldTable[R]) kept() {
	n := copy(h.rows, h.rows[h.sent:])
	clear(h.rows[n:])
	h.rows = h.rows[:n]
	h.mark, h.sent = n, 0
}

// failed: the operation's rows are dropped, and those of earlier
// operations it sent (undone by its savepoint's rollback) are held again.
func (h *heldTable[R]) failed() {
	clear(h.rows[h.mark:])
	h.rows = h.rows[:h.mark]
	h.sent = 0
}

func (h *heldTable[R]) reset() {
	clear(h.rows)
	h.rows = h.rows[:0]
	h.mark, h.sent = 0, 0
}

// held is a lane's held rows.
type held struct {
	ev heldTable[evRow]
	ob heldTable[obRow]
}

func (h *held) begin()  { h.ev.begin(); h.ob.begin() }
func (h *held) kept()   { h.ev.kept(); h.ob.kept() }
func (h *held) failed() { h.ev.failed(); h.ob.failed() }
func (h *held) reset()  { h.ev.reset(); h.ob.reset() }

const (
	qInsertEvents = `INSERT INTO events (instance_id, task_id, flow_id, step_id, type, actor, auto, data, at, id)
		SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[], $7::bool[],
		$8::bytea[], $9::timestamptz[], $10::bigint[])`
	qInsertOutbox = `INSERT INTO outbox (kind, recipient, instance_id, task_id, step_id, data, next_at, created_at, id,
		status, attempts, last_error)
		SELECT *, 'pending', 0, '' FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bigint[], $5::text[],
		$6::bytea[], $7::timestamptz[], $8::timestamptz[], $9::bigint[])`
)

// unsentEvents returns the insert of the events not sent yet, or false
// when there are none, and counts them as sent.
func (h *held) unsentEvents() (pending, bool) {
	rows := h.ev.rows[h.ev.sent:]
	if len(rows) == 0 {
		return pending{}, false
	}
	h.ev.sent = len(h.ev.rows)
	n := len(rows)
	inst, task, id := make([]int64, n), make([]int64, n), make([]int64, n)
	flow, step, typ, actr := make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	auto, data, at := make([]bool, n), make([][]byte, n), make([]time.Time, n)
	for i, r := range rows {
		inst[i], task[i], id[i] = r.inst, r.task, r.id
		flow[i], step[i], typ[i], actr[i] = r.flow, r.step, r.typ, r.actr
		auto[i], data[i], at[i] = r.auto, r.data, r.at
	}
	return pending{what: fmt.Sprintf("append %d held events", n), sql: qInsertEvents, sp: true,
		args: []any{inst, task, flow, step, typ, actr, auto, data, at, id}}, true
}

// unsentOutbox is unsentEvents for the outbox messages.
func (h *held) unsentOutbox() (pending, bool) {
	rows := h.ob.rows[h.ob.sent:]
	if len(rows) == 0 {
		return pending{}, false
	}
	h.ob.sent = len(h.ob.rows)
	n := len(rows)
	kind, rcpt, step := make([]string, n), make([]string, n), make([]string, n)
	inst, task, id := make([]int64, n), make([]int64, n), make([]int64, n)
	data, next, at := make([][]byte, n), make([]time.Time, n), make([]time.Time, n)
	for i, r := range rows {
		kind[i], rcpt[i], step[i] = r.kind, r.rcpt, r.step
		inst[i], task[i], id[i] = r.inst, r.task, r.id
		data[i], next[i], at[i] = r.data, r.next, r.at
	}
	return pending{what: fmt.Sprintf("enqueue %d held messages", n), sql: qInsertOutbox, sp: true,
		args: []any{kind, rcpt, inst, task, step, data, next, at, id}}, true
}

// checkText refuses text PostgreSQL cannot store in a text column: a NUL
// byte or invalid UTF-8. It names the first bad field.
func checkText(fields ...string) error {
	for i := 0; i+1 < len(fields); i += 2 {
		if s := fields[i+1]; strings.IndexByte(s, 0) >= 0 || !utf8.ValidString(s) {
			return fmt.Errorf("%s %q: a NUL byte or invalid UTF-8", fields[i], s)
		}
	}
	return nil
}
