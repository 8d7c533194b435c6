package main

import (
	"bufio"
	"context"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/flows"
)

// openEvents streams user's playground events; each "message" event's
// JSON arrives on the returned channel.
func openEvents(tb testing.TB, base, user string) <-chan string {
	tb.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/ui/api/events?user="+user, nil)
	require.NoError(tb, err)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(tb, err)
	require.Equal(tb, http.StatusOK, resp.StatusCode)
	ch := make(chan string, 1024)
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		name := ""
		for sc.Scan() {
			line := sc.Text()
			switch {
			case strings.HasPrefix(line, "event: "):
				name = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "data: ") && name == "message":
				select {
				case ch <- strings.TrimPrefix(line, "data: "):
				case <-ctx.Done():
					return
				}
			}
		}
	}()
	tb.Cleanup(func() { cancel(); <-done })
	return ch
}

// BenchmarkWebApprove measures the whole path of one approval through the
// web adapter: an approver's click (POST /ui/api/action) goes through the
// bot and the engine (one transaction with its outbox messages), the
// clicked card comes back rendered, and the notifier delivers the
// "approved" card to the applicant's open page (server-sent event). Each
// iteration approves a fresh task; p50 and p99 of that path are reported.
//
//	go test -run '^$' -bench BenchmarkWebApprove -benchtime 2000x ./cmd/flowbot/
func BenchmarkWebApprove(b *testing.B) {
	ctx := context.Background()
	r := startApp(b, testConfig(b.TempDir()))
	store := r.app.store
	submit := func() *flows.Outcome {
		out, err := r.app.engine.Submit(ctx, flows.SubmitRequest{Actor: applicant, FlowID: "expense", Values: map[string]any{
			"amount": 100, "category": "travel", "description": "taxi",
		}})
		require.NoError(b, err)
		return out
	}
	drained := func() {
		r.app.kick()
		waitFor(b, 60*time.Second, "the outbox to drain", func() bool {
			n, err := store.OutboxDepth(ctx)
			require.NoError(b, err)
			return n == 0
		})
	}

	// The approve button's value, as the first delivered card shows it.
	first := submit()
	drained()
	card := r.pg.waitHistory(b, approver, "approve", first.Instance.Number)
	btn, _ := card.button("approve")
	taskValue := func(out *flows.Outcome) map[string]string {
		var task *flows.Task
		for _, t := range out.Tasks {
			if t.Assignee == approver && t.Status == flows.TaskPending {
				task = t
			}
		}
		require.NotNil(b, task, "%s has a task for %s", out.Instance.Number, approver)
		return map[string]string{"task": strconv.FormatInt(task.ID, 10), "instance": strconv.FormatInt(out.Instance.ID, 10)}
	}
	require.Equal(b, btn.Value, taskValue(first), "the benchmark builds the button value the card carries")

	outs := []*flows.Outcome{first}
	for len(outs) < b.N {
		outs = append(outs, submit())
	}
	drained()
	notices := openEvents(b, r.base, applicant)
	lat := make([]time.Duration, 0, b.N)
	click := make([]time.Duration, 0, b.N)

	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		out := outs[i]
		start := time.Now()
		var rep pgReply
		code, err := r.pg.post(ctx, "/ui/api/action", map[string]any{
			"user": approver, "action": "approve", "value": taskValue(out),
		}, &rep)
		if err != nil || code != http.StatusOK || rep.Toast == "" {
			b.Fatalf("approve %s: status %d, err %v, reply %+v", out.Instance.Number, code, err, rep)
		}
		click = append(click, time.Since(start))
		for got := false; !got; {
			select {
			case data := <-notices:
				got = strings.Contains(data, out.Instance.Number)
			case <-time.After(10 * time.Second):
				b.Fatalf("the applicant was not told about %s", out.Instance.Number)
			}
		}
		lat = append(lat, time.Since(start))
	}
	b.StopTimer()

	pct := func(ds []time.Duration, p float64) float64 {
		slices.Sort(ds)
		return float64(ds[min(len(ds)-1, int(float64(len(ds))*p))].Nanoseconds())
	}
	b.ReportMetric(pct(lat, 0.50), "p50-ns")
	b.ReportMetric(pct(lat, 0.99), "p99-ns")
	b.ReportMetric(pct(click, 0.50), "click-p50-ns")
	b.ReportMetric(pct(click, 0.99), "click-p99-ns")
}
