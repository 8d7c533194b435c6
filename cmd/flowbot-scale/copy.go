package main

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"strings"
	"time"
)

// perRequest are the tables with rows of one request, the column naming
// the request (empty: the table is the requests').
var perRequest = []struct{ table, instanceCol, where string }{
	{"instances", "", "closed_at IS NOT NULL"},
	{"tasks", "instance_id", ""},
	{"events", "instance_id", ""},
	{"outbox", "instance_id", "status = 'delivered'"},
	{"message_refs", "instance_id", ""},
}

// copyRequests copies the closed requests of the database (the template)
// until it holds want requests, in transactions of a few thousand copies.
// A copy k of a row has its ids moved by k times the template's largest
// id of that table, "-k" after its request number, and every time moved
// back by k times step, so the copies spread over about two years.
func copyRequests(ctx context.Context, path string, want int, out io.Writer) (int, error) {
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(OFF)")
	if err != nil {
		return 0, fmt.Errorf("open %s: %w", path, err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	var have, tmpl int
	if err := db.QueryRowContext(ctx, `SELECT count(*), count(*) FILTER (WHERE closed_at IS NOT NULL) FROM instances`).Scan(&have, &tmpl); err != nil {
		return 0, fmt.Errorf("count requests: %w", err)
	}
	if tmpl == 0 {
		return have, fmt.Errorf("no closed request to copy")
	}
	span := map[string]int64{}
	cols := map[string][]string{}
	for _, t := range perRequest {
		var m sql.NullInt64
		if err := db.QueryRowContext(ctx, `SELECT max(id) FROM `+t.table).Scan(&m); err != nil {
			return have, fmt.Errorf("max id of %s: %w", t.table, err)
		}
		span[t.table] = m.Int64 + 1
		rows, err := db.QueryContext(ctx, `SELECT name FROM pragma_table_info('`+t.table+`')`)
		if err != nil {
			return have, err
		}
		for rows.Next() {
			var c string
			if err := rows.Scan(&c); err != nil {
				rows.Close()
				return have, err
			}
			cols[t.table] = append(cols[t.table], c)
		}
		rows.Close()
	}
	copies := (want - have + tmpl - 1) / tmpl
	step := int64(2*365*24*time.Hour/time.Millisecond) / int64(max(copies, 1))
	stmts := make([]string, len(perRequest))
	for i, t := range perRequest {
		var sel []string
		for _, c := range cols[t.table] {
			switch {
			case c == "id":
				sel = append(sel, fmt.Sprintf("x.id + k.k * %d", span[t.table]))
			case c == "instance_id":
				sel = append(sel, fmt.Sprintf("x.instance_id + k.k * %d", span["instances"]))
			case c == "task_id":
				sel = append(sel, fmt.Sprintf("CASE WHEN x.task_id > 0 THEN x.task_id + k.k * %d ELSE x.task_id END", span["tasks"]))
			case c == "number":
				sel = append(sel, "x.number || '-' || k.k")
			case c == "at" || strings.HasSuffix(c, "_at"):
				sel = append(sel, fmt.Sprintf("x.%s - k.k * %d", c, step))
			default:
				sel = append(sel, "x."+c)
			}
		}
		where := []string{}
		if t.where != "" {
			where = append(where, "x."+t.where)
		}
		if t.instanceCol != "" {
			where = append(where, fmt.Sprintf("x.%s IN (SELECT id FROM instances WHERE closed_at IS NOT NULL AND id < %d)", t.instanceCol, span["instances"]))
		} else {
			where = append(where, fmt.Sprintf("x.id < %d", span["instances"]))
		}
		stmts[i] = fmt.Sprintf(`WITH RECURSIVE k(k) AS (SELECT ?1 UNION ALL SELECT k + 1 FROM k WHERE k < ?2)
			INSERT INTO %s (%s) SELECT %s FROM k, %s x WHERE %s`,
			t.table, strings.Join(cols[t.table], ", "), strings.Join(sel, ", "), t.table, strings.Join(where, " AND "))
	}
	chunk := max(1, 20000/tmpl)
	t0 := time.Now()
	for k := 1; k <= copies; k += chunk {
		last := min(k+chunk-1, copies)
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			return have, err
		}
		for i, q := range stmts {
			if _, err := tx.ExecContext(ctx, q, k, last); err != nil {
				_ = tx.Rollback()
				return have, fmt.Errorf("copy %s (copies %d-%d): %w", perRequest[i].table, k, last, err)
			}
		}
		if err := tx.Commit(); err != nil {
			return have, err
		}
		have += (last - k + 1) * tmpl
		fmt.Fprintf(out, "\r%d requests (%s)", have, time.Since(t0).Round(time.Second))
	}
	fmt.Fprintln(out)
	if _, err := db.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
		return have, err
	}
	return have, nil
}
