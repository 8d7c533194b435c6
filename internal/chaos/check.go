package chaos

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Report is the outcome of a run: its figures and every problem found.
type Report struct {
	Events, Acked, Dups, DelayedDups, DoubleClicks, Redelivered int64
	Cycles, Submitted, Decided                                  int
	Kills                                                       []string        // "SIGKILL at 12.3s"
	Recovery                                                    []time.Duration // restart to /readyz 200
	Faults                                                      []string        // "429 for 3s at 20.1s"
	Restarts                                                    []string        // "redis SIGKILL at 12.3s, down 1.1s"
	Outages                                                     []time.Duration // a server's stop to serving again
	Sends, Distinct, Resent                                     int             // Feishu create calls, distinct uuids, uuids created more than once
	Outbox                                                      int             // outbox messages delivered through Feishu
	Cut                                                         int             // create calls cut mid-body by a dying sender (never reached Feishu)
	Lost, Doubled, Stuck, Impossible                            int
	// TryAgain counts clicks answered "something went wrong, please try
	// again" (HTTP 200 with an error toast), which the driver clicked
	// again as a user would.
	TryAgain         int64
	RetryLater       time.Duration // longest stretch of 5xx answers to one event
	CardAfterKillP99 time.Duration // p99 delay of a task card whose wait spanned a kill
	CardAfterKillN   int
	// Platform is where the cycles ran ("feishu" or "web"); CPU what
	// each side used while they ran (set by Run).
	Platform string
	CPU      CPU
	Problems []string
}

// CPUPerCycle is each side's CPU per decided cycle (0 when not known).
func (r *Report) CPUPerCycle() (server, load time.Duration) {
	if r.Decided == 0 {
		return 0, 0
	}
	if r.CPU.ServerKnown {
		server = r.CPU.Server / time.Duration(r.Decided)
	}
	return server, r.CPU.Load / time.Duration(r.Decided)
}

func (r *Report) problem(kind *int, format string, args ...any) {
	*kind++
	if len(r.Problems) < 40 {
		r.Problems = append(r.Problems, fmt.Sprintf(format, args...))
	}
}

// OK reports whether nothing was lost, doubled, stuck or impossible.
func (r *Report) OK() bool { return r.Lost+r.Doubled+r.Stuck+r.Impossible == 0 }

// Print writes the figures and the problems.
func (r *Report) Print(w io.Writer) {
	fmt.Fprintf(w, "events %d (acknowledged %d, duplicates %d at once + %d later, double clicks %d, redelivered %d)\n",
		r.Events, r.Acked, r.Dups, r.DelayedDups, r.DoubleClicks, r.Redelivered)
	fmt.Fprintf(w, "requests: %d cycles, %d submitted, %d decided or withdrawn\n", r.Cycles, r.Submitted, r.Decided)
	if r.TryAgain > 0 {
		fmt.Fprintf(w, "clicks answered \"please try again\" and clicked again: %d\n", r.TryAgain)
	}
	if len(r.Faults) > 0 {
		fmt.Fprintf(w, "platform faults: %s\n", strings.Join(r.Faults, ", "))
	}
	if len(r.Restarts) > 0 {
		fmt.Fprintf(w, "server restarts: %s\n", strings.Join(r.Restarts, ", "))
	}
	if len(r.Kills) > 0 {
		fmt.Fprintf(w, "signals: %s\n", strings.Join(r.Kills, ", "))
		rec := slices.Clone(r.Recovery)
		slices.Sort(rec)
		if len(rec) > 0 {
			fmt.Fprintf(w, "recovery to /readyz: min %s, max %s\n", round(rec[0]), round(rec[len(rec)-1]))
		}
		fmt.Fprintf(w, "task cards whose wait spanned a kill: %d, p99 delay %s\n", r.CardAfterKillN, round(r.CardAfterKillP99))
	}
	fmt.Fprintf(w, "longest 'retry later' window: %s\n", round(r.RetryLater))
	if r.Platform == "web" {
		fmt.Fprintf(w, "web: %d task messages delivered, each one card on its approver's event stream\n", r.Outbox)
	} else {
		fmt.Fprintf(w, "Feishu: %d outbox messages, %d create calls, %d distinct uuids, %d resent (same uuid), %d cut mid-body by a dying sender\n", r.Outbox, r.Sends, r.Distinct, r.Resent, r.Cut)
	}
	if r.CPU.Load > 0 {
		server, load := r.CPUPerCycle()
		sv := "not known (an incarnation changed)"
		if r.CPU.ServerKnown {
			sv = fmt.Sprintf("%s (%s per cycle)", round(r.CPU.Server), round(server))
		}
		fmt.Fprintf(w, "CPU over the load: server %s, load generator %s (%s per cycle)\n", sv, round(r.CPU.Load), round(load))
	}
	fmt.Fprintf(w, "lost %d, doubled %d, stuck %d, impossible %d\n", r.Lost, r.Doubled, r.Stuck, r.Impossible)
	for _, p := range r.Problems {
		fmt.Fprintln(w, "  -", p)
	}
}

// Check waits (at most settle) until the outbox is drained, then checks
// every cycle, request, task and outbox message against the fake's counts.
func (d *Driver) Check(ctx context.Context, settle time.Duration) (*Report, error) {
	r := &Report{Events: d.events.Load(), Acked: d.acked.Load(), Dups: d.dups.Load(), DelayedDups: d.delayedDups.Load(),
		DoubleClicks: d.doubleClicks.Load(), Redelivered: d.redelivered.Load(), TryAgain: d.tryAgain.Load()}
	d.mu.Lock()
	cycles := slices.Clone(d.cycles)
	r.RetryLater = d.retryLater
	ak := slices.Clone(d.afterKillCard)
	d.mu.Unlock()
	if len(ak) > 0 {
		slices.Sort(ak)
		r.CardAfterKillP99, r.CardAfterKillN = pct(ak, 99), len(ak)
	}
	db := d.db
	deadline := time.Now().Add(settle)
	pending := 0
	for {
		n, err := db.count(ctx, `SELECT count(*) FROM outbox WHERE status = 'pending'`)
		if err != nil {
			return nil, err
		}
		pending = n
		if n == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if pending > 0 {
		r.problem(&r.Stuck, "%d outbox messages still pending %s after the load", pending, settle)
	}
	if n, err := db.count(ctx, `SELECT count(*) FROM outbox WHERE status = 'failed'`); err != nil {
		return nil, err
	} else if n > 0 {
		r.problem(&r.Stuck, "%d outbox messages failed", n)
	}
	// Every cycle against its request.
	status := map[int64]string{}
	rows, err := db.db.QueryContext(ctx, `SELECT id, status FROM instances`)
	if err != nil {
		return nil, fmt.Errorf("chaos: read instances: %w", err)
	}
	for rows.Next() {
		var id int64
		var s string
		if err := rows.Scan(&id, &s); err != nil {
			rows.Close()
			return nil, fmt.Errorf("chaos: read instances: %w", err)
		}
		status[id] = s
	}
	rows.Close()
	r.Cycles = len(cycles)
	shown := d.Fake.all
	if d.Web != nil {
		shown = d.Web.all
	}
	summaries, tasks := cardCounts(shown)
	for _, c := range cycles {
		if c.Err != "" {
			// A click answered "processing" is kept in the inbox and
			// replayed after a kill: losing it is a loss like any other
			// (the note helps to tell which path lost it).
			late := ""
			if c.SubmitLate {
				late = " (its click was answered \"processing\")"
			}
			if strings.Contains(c.Err, "never arrived") || strings.Contains(c.Err, "left no request") {
				r.problem(&r.Lost, "cycle %d (%s): %s%s", c.K, c.Applicant, c.Err, late)
			} else if ctx.Err() == nil {
				r.problem(&r.Stuck, "cycle %d (%s): %s", c.K, c.Applicant, c.Err)
			}
		}
		if !c.Submitted || c.Instance == 0 {
			continue
		}
		r.Submitted++
		want := wantStatus[c.Plan]
		if c.Plan != Leave && !c.Decided {
			want = ""
		} else if c.Plan != Leave {
			r.Decided++
		}
		if got := status[c.Instance]; want != "" && got != want {
			late := ""
			if c.DecisionLate {
				late = " (its click was answered \"processing\")"
			}
			r.problem(&r.Lost, "cycle %d (%s, %s): request %d is %q, want %q%s", c.K, c.Applicant, c.Desc, c.Instance, got, want, late)
		}
		// What was shown: one summary card per filing, one task card per task.
		if n := summaries[c.Desc]; n != 1 {
			r.problem(&r.Doubled, "cycle %d: %d summary cards for %s, want 1", c.K, n, c.Desc)
		}
		if n := tasks[strconv.FormatInt(c.Task, 10)]; n != 1 {
			r.problem(&r.Doubled, "cycle %d: %d task cards for task %d, want 1", c.K, n, c.Task)
		}
	}
	if len(status) != r.Submitted {
		r.problem(&r.Doubled, "%d requests in the database, %d acknowledged submits", len(status), r.Submitted)
	}
	for _, q := range []struct {
		kind *int
		what string
		sql  string
	}{
		{&r.Doubled, "claims filed twice (same description)", `SELECT count(*) FROM (SELECT CAST(form AS TEXT) f FROM instances GROUP BY f HAVING count(*) > 1) AS x`},
		{&r.Doubled, "requests with more or fewer than one task", `SELECT count(*) FROM (SELECT i.id FROM instances i LEFT JOIN tasks t ON t.instance_id = i.id GROUP BY i.id HAVING count(t.id) <> 1) AS x`},
		{&r.Doubled, "outcomes written twice", `SELECT count(*) FROM (SELECT instance_id, kind FROM outbox
			WHERE kind IN ('approved', 'rejected', 'withdrawn', 'submitted', 'task') GROUP BY instance_id, kind HAVING count(*) > 1) AS x`},
		{&r.Impossible, "requests with an unknown status", `SELECT count(*) FROM instances WHERE status NOT IN ('pending', 'approved', 'rejected', 'withdrawn')`},
		{&r.Impossible, "pending requests without exactly one pending task", `SELECT count(*) FROM instances i WHERE i.status = 'pending' AND
			(SELECT count(*) FROM tasks t WHERE t.instance_id = i.id AND t.status = 'pending') <> 1`},
		{&r.Impossible, "closed requests with a pending task", `SELECT count(*) FROM instances i WHERE i.status <> 'pending' AND
			EXISTS (SELECT 1 FROM tasks t WHERE t.instance_id = i.id AND t.status = 'pending')`},
		{&r.Impossible, "approved requests whose task is not approved", `SELECT count(*) FROM instances i WHERE i.status = 'approved' AND
			NOT EXISTS (SELECT 1 FROM tasks t WHERE t.instance_id = i.id AND t.status = 'approved')`},
		{&r.Impossible, "rejected requests whose task is not rejected", `SELECT count(*) FROM instances i WHERE i.status = 'rejected' AND
			NOT EXISTS (SELECT 1 FROM tasks t WHERE t.instance_id = i.id AND t.status = 'rejected')`},
		{&r.Impossible, "closed requests without a close time, or open ones with one", `SELECT count(*) FROM instances WHERE (status = 'pending') <> (closed_at IS NULL)`},
		{&r.Doubled, "approved requests and approved messages differ", `SELECT abs((SELECT count(*) FROM instances WHERE status = 'approved') - (SELECT count(*) FROM outbox WHERE kind = 'approved'))`},
	} {
		n, err := db.count(ctx, q.sql)
		if err != nil {
			return nil, err
		}
		if n > 0 {
			r.problem(q.kind, "%d %s", n, q.what)
		}
	}
	if d.Web != nil {
		// Every task message the notifier delivered is one task card on
		// its approver's stream.
		n, err := db.count(ctx, `SELECT count(*) FROM outbox WHERE kind = 'task' AND status = 'delivered'`)
		if err != nil {
			return nil, err
		}
		r.Outbox = n
		if n != len(tasks) {
			r.problem(&r.Lost, "%d task messages delivered, %d tasks have a card on the web", n, len(tasks))
		}
		return r, nil
	}
	if err := d.checkSends(ctx, r); err != nil {
		return nil, err
	}
	return r, nil
}

// checkSends checks each delivered outbox message against the Feishu
// create calls counted before the fake's uuid dedupe: each was created at
// least once and is shown exactly once, and no create call carries a
// uuid of no outbox message or goes to two recipients.
func (d *Driver) checkSends(ctx context.Context, r *Report) error {
	rows, err := d.db.db.QueryContext(ctx, `SELECT id, kind, data FROM outbox WHERE status = 'delivered' AND kind NOT IN ('card_update', 'http')`)
	if err != nil {
		return fmt.Errorf("chaos: read outbox: %w", err)
	}
	want := map[int64][2]string{}
	for rows.Next() {
		var id int64
		var kind string
		var data []byte
		if err := rows.Scan(&id, &kind, &data); err != nil {
			rows.Close()
			return fmt.Errorf("chaos: read outbox: %w", err)
		}
		if kind == "reply" {
			// A reply goes where its event came from (bots.DecodeReply).
			var rd struct {
				To struct{ Platform string }
			}
			_ = json.Unmarshal(data, &rd)
			if rd.To.Platform != "feishu" {
				continue // a web reply: shown in the page, not at the fake
			}
		}
		// The notifier's key is "outbox-ID" for a reply and
		// "outbox-ID-feishu" for a message to a user's platforms.
		key := "outbox-" + strconv.FormatInt(id, 10)
		want[id] = [2]string{uuidOf(key), uuidOf(key + "-feishu")}
	}
	rows.Close()
	r.Outbox = len(want)
	r.Cut = d.Fake.Cut()
	calls, recipients := d.Fake.Creates()
	shown := map[string]int{}
	for _, m := range d.Fake.Messages() {
		shown[m.UUID]++
	}
	known := map[string]bool{}
	for id, us := range want {
		known[us[0]], known[us[1]] = true, true
		switch n := shown[us[0]] + shown[us[1]]; {
		case calls[us[0]]+calls[us[1]] == 0:
			r.problem(&r.Lost, "outbox message %d is delivered but no Feishu create call has its uuid", id)
		case n != 1:
			r.problem(&r.Doubled, "outbox message %d: Feishu shows it %d times, want 1", id, n)
		}
	}
	for u, n := range calls {
		r.Sends += n
		r.Distinct++
		if n > 1 {
			r.Resent++
		}
		if !known[u] {
			r.problem(&r.Doubled, "%d Feishu create call(s) with uuid %q of no delivered outbox message", n, u)
		}
		if recipients[u] != 1 {
			r.problem(&r.Doubled, "uuid %q was sent to %d recipients", u, recipients[u])
		}
	}
	return nil
}

// uuidOf is the Feishu uuid of a send with key (adapters/feishu uuidFor).
func uuidOf(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:16])
}
