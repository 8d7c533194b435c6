package main

// Tests of the real binary: exit codes, a crash (SIGKILL) in the middle of
// a burst of submissions and a restart on the same database, and a clean
// stop on SIGTERM.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/flows"
	"github.com/flowbot/flowbot/internal/testkit"
)

// buildFlowbot compiles ./cmd/flowbot into dir.
func buildFlowbot(t *testing.T, dir string) string {
	t.Helper()
	bin := filepath.Join(dir, "flowbot")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/flowbot")
	cmd.Dir = moduleRoot(t)
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "go build:\n%s", out)
	return bin
}

// proc is one `flowbot serve` subprocess.
type proc struct {
	cmd    *exec.Cmd
	base   string // http://127.0.0.1:port
	stdout *syncBuffer
	stderr *syncBuffer
	exited chan struct{}
	err    error // of Wait, once exited is closed
}

var runningRE = regexp.MustCompile(`open (http://[^/\s]+)/ui/`)

// startServe runs `flowbot serve --config cfg` and waits until it listens.
func startServe(t *testing.T, bin, cfg string) *proc {
	t.Helper()
	p := &proc{
		cmd:    exec.Command(bin, "serve", "--config", cfg),
		stdout: &syncBuffer{}, stderr: &syncBuffer{}, exited: make(chan struct{}),
	}
	dumpOnFailure(t, "flowbot stderr", p.stderr)
	p.cmd.Stdout, p.cmd.Stderr = p.stdout, p.stderr
	require.NoError(t, p.cmd.Start())
	go func() {
		p.err = p.cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(p.kill)
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if m := runningRE.FindStringSubmatch(p.stdout.String()); m != nil {
			p.base = m[1]
			return p
		}
		select {
		case <-p.exited:
			t.Fatalf("flowbot exited before listening: %v", p.err)
		case <-time.After(20 * time.Millisecond): // polling interval, bounded by the deadline
		}
	}
	t.Fatal("flowbot did not start listening within 20s")
	return nil
}

// kill ends the process at once (SIGKILL) unless it already exited.
func (p *proc) kill() {
	select {
	case <-p.exited:
	default:
		_ = p.cmd.Process.Kill()
		<-p.exited
	}
}

// outboxDepth reads flowbot_outbox_depth from /metrics.
func outboxDepth(base string) (int, error) {
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, err
	}
	m := regexp.MustCompile(`(?m)^flowbot_outbox_depth (\S+)$`).FindSubmatch(b)
	if m == nil {
		return 0, errors.New("no flowbot_outbox_depth in /metrics")
	}
	f, err := strconv.ParseFloat(string(m[1]), 64)
	return int(f), err
}

// serveConfig writes a config for a subprocess: SQLite in dir, any free
// port, a short lease so that messages claimed by a killed process are
// taken over quickly.
func serveConfig(t *testing.T, dir string) (cfg, db string) {
	t.Helper()
	db = filepath.Join(dir, "flowbot.db")
	cfg = writeFile(t, dir, "config.yaml", fmt.Sprintf(`log: {level: warn}
http: {addr: "127.0.0.1:0", shutdown_timeout: 5s}
database: {driver: sqlite, sqlite: %q}
notifier: {lease: 2s, poll: 100ms}
playground: {demo: true}
`, db))
	return cfg, db
}

func TestBinary(t *testing.T) {
	t.Parallel()
	bin := buildFlowbot(t, t.TempDir())

	t.Run("exit codes", func(t *testing.T) {
		tests := []struct {
			name   string
			args   []string
			code   int
			stdout []string
			stderr []string
		}{
			{"help", []string{"help"}, 0, []string{"Usage:"}, nil},
			{"unknown command", []string{"bogus"}, 2, nil, []string{"Usage:"}},
			{"good flows", []string{"flows", "validate", filepath.Join(moduleRoot(t), "examples", "flows")}, 0, []string{"ok  leave"}, nil},
			{"bad flows", []string{"flows", "validate", filepath.Join("testdata", "badflows")}, 1,
				[]string{"mode.yaml:13:", "twin2.yaml:2:"}, []string{"flowbot: 5 mistake(s)"}},
			{"bad directory", []string{"directory", "import", filepath.Join("testdata", "badorg.yaml")}, 1,
				nil, []string{"badorg.yaml:4:", "badorg.yaml:6:", "badorg.yaml:7:", "badorg.yaml:8:", "badorg.yaml:9:"}},
		}
		for _, tc := range tests {
			cmd := exec.Command(bin, tc.args...)
			var stdout, stderr strings.Builder
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			err := cmd.Run()
			code := 0
			var exit *exec.ExitError
			if errors.As(err, &exit) {
				code = exit.ExitCode()
			} else {
				require.NoError(t, err)
			}
			require.Equal(t, tc.code, code, "%s: exit code; stderr: %s", tc.name, stderr.String())
			for _, s := range tc.stdout {
				require.Contains(t, stdout.String(), s, tc.name)
			}
			for _, s := range tc.stderr {
				require.Contains(t, stderr.String(), s, tc.name)
			}
		}
	})

	t.Run("crash and restart", func(t *testing.T) { testCrashAndRestart(t, bin) })

	t.Run("SIGTERM", func(t *testing.T) {
		cfg, _ := serveConfig(t, t.TempDir())
		p := startServe(t, bin, cfg)
		resp, err := http.Get(p.base + "/readyz")
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode)

		start := time.Now()
		require.NoError(t, p.cmd.Process.Signal(syscall.SIGTERM))
		select {
		case <-p.exited:
		case <-time.After(10 * time.Second):
			t.Fatal("flowbot did not exit within 10s of SIGTERM")
		}
		require.NoError(t, p.err, "exit status 0 after SIGTERM; stderr: %s", p.stderr.String())
		require.Less(t, time.Since(start), 3*time.Second, "an idle process stops promptly")
	})
}

// submitter files leave requests for one applicant by inline command and
// Submit, until ctx ends or the server stops answering. It reports the
// number of each submission answered 200.
func submitter(ctx context.Context, pg *playground, user string, nth int, answered func(number string)) error {
	for i := 0; ctx.Err() == nil; i++ {
		text := fmt.Sprintf("/leave type=annual period=%s reason=burst-%s-%d", leavePeriod(nth+i), user, i)
		code, r, err := pg.trySend(ctx, user, text)
		if err != nil {
			return err
		}
		if code != http.StatusOK {
			return fmt.Errorf("send as %s: status %d: %s", user, code, r.Error)
		}
		summary, ok := lastWith(r.Messages, "submit")
		if !ok {
			return fmt.Errorf("no summary card with Submit for %s after %q", user, text)
		}
		code, r, err = pg.tryClick(ctx, user, summary, "submit", nil)
		if err != nil {
			return err
		}
		if code != http.StatusOK {
			return fmt.Errorf("submit as %s: status %d: %s", user, code, r.Error)
		}
		number := numberRE.FindString(r.Toast)
		if number == "" {
			return fmt.Errorf("submit as %s: no number in the toast %q", user, r.Toast)
		}
		answered(number)
	}
	return ctx.Err()
}

func testCrashAndRestart(t *testing.T, bin string) {
	dir := t.TempDir()
	cfg, dbPath := serveConfig(t, dir)
	applicants := []string{"hanmeimei", "zhangwei", "tom", "liuyang", "emily"}

	var mu sync.Mutex
	var answered []string // numbers of submissions answered 200
	record := func(n string) {
		mu.Lock()
		answered = append(answered, n)
		mu.Unlock()
	}
	count := func() int {
		mu.Lock()
		defer mu.Unlock()
		return len(answered)
	}

	// First life: a few requests, then a burst, killed in the middle.
	a := startServe(t, bin, cfg)
	pgA := newPlayground(a.base)
	for i, user := range applicants {
		record(fileLeave(t, pgA, user, leavePeriod(i), "first-"+user))
	}
	ctx, stopBurst := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for i, user := range applicants {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = submitter(ctx, pgA, user, 10+i*20, record) // ends with an error when the process dies
		}()
	}
	before := count()
	waitFor(t, 20*time.Second, "a burst of submissions", func() bool { return count() >= before+2*len(applicants) })
	a.kill() // SIGKILL, mid-burst
	stopBurst()
	wg.Wait()
	var exit *exec.ExitError
	require.ErrorAs(t, a.err, &exit)
	require.Equal(t, "signal: killed", exit.Error())

	// While no process runs, requests keep arriving (another replica, the
	// REST API): their messages wait in the outbox for the next process.
	mu.Lock()
	numbers := slices.Clone(answered)
	mu.Unlock()
	offline := submitOffline(t, dbPath, []string{"hanmeimei", "liuyang"})

	// Second life on the same database.
	restartAt := time.Now()
	b := startServe(t, bin, cfg)
	pgB := newPlayground(b.base)
	waitFor(t, 20*time.Second, "the outbox to drain after the restart", func() bool {
		n, err := outboxDepth(b.base)
		return err == nil && n == 0
	})
	histories := map[string][]pgMsg{}
	for _, u := range []string{"hanmeimei", "zhangwei", "tom", "liuyang", "emily", "lilei", "zhaomin"} {
		histories[u] = pgB.history(t, u)
	}
	require.NoError(t, b.cmd.Process.Signal(syscall.SIGTERM))
	select {
	case <-b.exited:
		require.NoError(t, b.err)
	case <-time.After(10 * time.Second):
		t.Fatal("flowbot did not exit within 10s of SIGTERM")
	}

	// Everything acknowledged survived the crash.
	db := testkit.OpenSQLiteFile(t, dbPath)
	defer db.Close()
	ins, err := db.Instances(context.Background(), flows.InstanceFilter{Limit: 100000})
	require.NoError(t, err)
	byID := map[int64]*flows.Instance{}
	stored := map[string]bool{}
	for _, in := range ins {
		byID[in.ID] = in
		stored[in.Number] = true
	}
	for _, n := range append(numbers, offline...) {
		require.True(t, stored[n], "request %s was answered 200 but is not in the database", n)
	}
	t.Logf("%d submissions answered before the kill, %d filed offline, %d requests stored", len(numbers), len(offline), len(ins))

	// Every message was delivered, none failed, none is left pending.
	for _, st := range []flows.OutboxStatus{flows.OutboxPending, flows.OutboxFailed} {
		left, err := db.Outbox(context.Background(), st, 1000)
		require.NoError(t, err)
		require.Empty(t, left, "%s messages left after the restart", st)
	}
	delivered, err := db.Outbox(context.Background(), flows.OutboxDelivered, 100000)
	require.NoError(t, err)

	// Each message delivered after the restart shows up once in the
	// recipient's chat of the second process.
	type key struct{ user, number string }
	want := map[key]int{}
	after := 0
	for _, m := range delivered {
		require.NotNil(t, m.DeliveredAt)
		if m.DeliveredAt.Before(restartAt) || m.Kind == flows.MsgCardUpdate || m.Kind == flows.MsgHTTP || m.InstanceID == 0 {
			continue
		}
		after++
		in := byID[m.InstanceID]
		require.NotNil(t, in, "message %d of an unknown request %d", m.ID, m.InstanceID)
		want[key{m.Recipient, in.Number}]++
	}
	require.GreaterOrEqual(t, after, 2*len(offline), "the offline requests' messages are delivered by the second process")
	for k, n := range want {
		got := 0
		for _, m := range histories[k.user] {
			if m.From == "bot" && strings.Contains(m.text(), k.number) {
				got++
			}
		}
		require.Equal(t, n, got, "%s sees %d message(s) about %s after the restart, want %d", k.user, got, k.number, n)
	}
	t.Logf("%d messages delivered, %d of them after the restart", len(delivered), after)
}

// submitOffline files an expense claim for each user straight through the
// engine on the database file, while no flowbot process runs.
func submitOffline(t *testing.T, dbPath string, users []string) []string {
	t.Helper()
	ctx := context.Background()
	db := testkit.OpenSQLiteFile(t, dbPath)
	defer db.Close()
	cal, err := loadCalendar("")
	require.NoError(t, err)
	eng := flows.New(flows.Config{Store: db, Calendar: cal, Logger: discardLogger()})
	var numbers []string
	for _, u := range users {
		out, err := eng.Submit(ctx, flows.SubmitRequest{Actor: u, FlowID: "expense", Values: map[string]any{
			"amount": 100, "category": "travel", "description": "taxi while flowbot was down",
		}})
		require.NoError(t, err)
		numbers = append(numbers, out.Instance.Number)
	}
	return numbers
}
