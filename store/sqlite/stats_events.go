package sqlite

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/flowbot/flowbot/flows"
)

// qStatsEvents reads each event as one text value, its fields joined by
// the unit separator (0x1f, which neither ids nor JSON hold raw), data
// last. The driver takes a lock for every column it reads: one column
// instead of ten makes reading the log for statistics about three times
// cheaper (docs/BENCHMARKS.md).
const qStatsEvents = `SELECT id || char(31) || instance_id || char(31) || task_id || char(31) || flow_id || char(31) || step_id || char(31) ||
	type || char(31) || actor || char(31) || auto || char(31) || at || char(31) || ifnull(CAST(data AS TEXT), '')
	FROM events WHERE id > ? ORDER BY id LIMIT ?`

// EventsForStats returns up to limit events after afterID in order, as
// Events does, for the statistics' full reads of the log: the same
// events, read faster, with the ids and names that repeat (flow, step,
// type, actor) shared between events of one call.
func (db *DB) EventsForStats(ctx context.Context, afterID int64, limit int) ([]*flows.Event, error) {
	if limit <= 0 {
		return nil, fmt.Errorf("list events for statistics: limit must be positive, got %d", limit)
	}
	rows, err := db.query(ctx, qStatsEvents, afterID, limit)
	if err != nil {
		return nil, fmt.Errorf("list events for statistics: %w", err)
	}
	defer rows.Close()
	names := map[string]string{}
	intern := func(b []byte) string {
		if s, ok := names[string(b)]; ok {
			return s
		}
		s := string(b)
		names[s] = s
		return s
	}
	out := make([]*flows.Event, 0, min(limit, 8192))
	var raw []byte
	var parts [10][]byte
	for rows.Next() {
		if err := rows.Scan(&raw); err != nil {
			return nil, fmt.Errorf("list events for statistics: %w", err)
		}
		rest := raw
		for i := range 9 {
			var ok bool
			parts[i], rest, ok = bytes.Cut(rest, []byte{31})
			if !ok {
				return nil, fmt.Errorf("list events for statistics: malformed row after event %d", afterID)
			}
		}
		parts[9] = rest
		num := func(b []byte) int64 { n, _ := strconv.ParseInt(string(b), 10, 64); return n }
		e := &flows.Event{
			ID: num(parts[0]), InstanceID: num(parts[1]), TaskID: num(parts[2]),
			FlowID: intern(parts[3]), StepID: intern(parts[4]), Type: flows.EventType(intern(parts[5])),
			Actor: intern(parts[6]), Auto: num(parts[7]) != 0, At: fromMS(num(parts[8])),
		}
		if len(parts[9]) > 0 {
			e.Data = append(json.RawMessage(nil), parts[9]...)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list events for statistics: %w", err)
	}
	return out, nil
}
