package main

import (
	"bufio"
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	_ "modernc.org/sqlite" // the SQLite driver flowbot uses

	"github.com/flowbot/flowbot/internal/chaos"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return
		}
		fmt.Fprintln(os.Stderr, "flowbot-scale:", err)
		os.Exit(2)
	}
}

type options struct {
	bin, dir   string
	requests   int
	seedEvents int64
	loadEvents int64
	idle       time.Duration
	workers    int
}

func run(ctx context.Context, args []string, out, errOut io.Writer) error {
	fs := flag.NewFlagSet("flowbot-scale", flag.ContinueOnError)
	fs.SetOutput(errOut)
	var o options
	fs.StringVar(&o.bin, "bin", "flowbot", "the flowbot binary")
	fs.StringVar(&o.dir, "dir", "flowbot-scale", "directory of the database, config, flow and company file (reused between runs)")
	fs.IntVar(&o.requests, "requests", 1_000_000, "requests the database holds before the measurement")
	fs.Int64Var(&o.seedEvents, "seed-events", 600, "events of the real load whose requests are copied")
	fs.Int64Var(&o.loadEvents, "events", 3000, "events of the load during which memory is sampled (0: no load)")
	fs.IntVar(&o.workers, "per-applicant", 4, "load workers per applicant")
	fs.DurationVar(&o.idle, "idle", 60*time.Second, "how long the server stays idle (the statistics warm up meanwhile) before its memory is read")
	if err := fs.Parse(args); err != nil {
		return err
	}
	dir, err := filepath.Abs(o.dir)
	if err != nil {
		return err
	}
	o.dir = dir
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	db := filepath.Join(dir, "flowbot.db")
	have, err := countRequests(ctx, db)
	if err != nil {
		return err
	}
	if have < o.requests {
		fmt.Fprintf(out, "building %s: %d requests stored, %d wanted\n", db, have, o.requests)
		if err := build(ctx, o, out); err != nil {
			return err
		}
	}
	return measure(ctx, o, out)
}

// countRequests counts the stored requests (0 when there is no database).
func countRequests(ctx context.Context, path string) (int, error) {
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return 0, nil
	}
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro&_pragma=busy_timeout(10000)")
	if err != nil {
		return 0, fmt.Errorf("open %s: %w", path, err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM instances`).Scan(&n); err != nil {
		return 0, nil // no schema yet
	}
	return n, nil
}

// server is one flowbot serve started by this tool.
type server struct {
	cmd  *exec.Cmd
	url  string
	done chan struct{}
}

// start writes the config (the chaos fixtures, the fake's keys) and starts
// flowbot serve; it returns once the process was started.
func start(o options, fake *chaos.Fake) (*server, error) {
	cfg, err := chaos.WriteFixtures(o.dir)
	if err != nil {
		return nil, err
	}
	cfg["feishu"] = fake.Config()
	cfg["log"] = map[string]any{"level": "warn", "format": "text"}
	p, err := chaos.NewProcess(o.bin, o.dir, cfg) // writes dir/config.yaml
	if err != nil {
		return nil, err
	}
	fake.SetWebhook(p.URL() + "/webhook/feishu")
	logf, err := os.OpenFile(filepath.Join(o.dir, "flowbot.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(o.bin, "serve", "--config", filepath.Join(o.dir, "config.yaml"))
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("start flowbot: %w", err)
	}
	s := &server{cmd: cmd, url: p.URL(), done: make(chan struct{})}
	go func() { _ = cmd.Wait(); logf.Close(); close(s.done) }()
	return s, nil
}

// waitFor polls path until it answers 200 and returns when that happened.
func (s *server) waitFor(ctx context.Context, path string, limit time.Duration) (time.Time, error) {
	c := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(limit)
	for {
		resp, err := c.Get(s.url + path)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return time.Now(), nil
			}
		}
		select {
		case <-s.done:
			return time.Time{}, fmt.Errorf("flowbot exited before %s answered (see flowbot.log)", path)
		case <-ctx.Done():
			return time.Time{}, ctx.Err()
		case <-time.After(2 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return time.Time{}, fmt.Errorf("%s did not answer within %s", path, limit)
		}
	}
}

// stop ends the server with SIGTERM (SIGKILL after 30 s).
func (s *server) stop() {
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(30 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.done
	}
}

// rss reads the resident set (VmRSS) of the server in bytes.
func (s *server) rss() (int64, error) {
	f, err := os.Open("/proc/" + strconv.Itoa(s.cmd.Process.Pid) + "/status")
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb << 10, err
		}
	}
	return 0, errors.New("no VmRSS")
}

// drive runs the load generator against s for events events.
func drive(ctx context.Context, o options, s *server, fake *chaos.Fake, events int64, out io.Writer) (*chaos.Stats, error) {
	company, err := chaos.LoadCompany()
	if err != nil {
		return nil, err
	}
	mix := chaos.DefaultMix(events)
	mix.Leave = 0 // every request ends closed
	mix.PerApplicant = o.workers
	d := &chaos.Driver{Fake: fake, URL: s.url, DB: filepath.Join(o.dir, "flowbot.db"), Mix: mix, Company: company, Stats: chaos.NewStats(), Out: out}
	defer d.Close()
	if err := d.Run(ctx); err != nil {
		return nil, err
	}
	fmt.Fprintln(out)
	return d.Stats, nil
}

// build fills the database: a real load first, then bulk copies.
func build(ctx context.Context, o options, out io.Writer) error {
	path := filepath.Join(o.dir, "flowbot.db")
	for _, suffix := range []string{"", "-wal", "-shm"} {
		if err := os.Remove(path + suffix); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	fake, err := chaos.NewFake("", "")
	if err != nil {
		return err
	}
	defer fake.Close()
	s, err := start(o, fake)
	if err != nil {
		return err
	}
	if _, err := s.waitFor(ctx, "/readyz", 5*time.Minute); err != nil {
		s.stop()
		return err
	}
	fmt.Fprintf(out, "real load: %d events\n", o.seedEvents)
	_, err = drive(ctx, o, s, fake, o.seedEvents, out)
	time.Sleep(3 * time.Second) // the last cards delivered
	s.stop()
	if err != nil {
		return err
	}
	t0 := time.Now()
	n, err := copyRequests(ctx, path, o.requests, out)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "database: %d requests (copies made in %s)\n", n, time.Since(t0).Round(time.Second))
	return nil
}

// measure starts the server on the database and prints the figures.
func measure(ctx context.Context, o options, out io.Writer) error {
	fake, err := chaos.NewFake("", "")
	if err != nil {
		return err
	}
	defer fake.Close()
	n, err := countRequests(ctx, filepath.Join(o.dir, "flowbot.db"))
	if err != nil {
		return err
	}
	fi, err := os.Stat(filepath.Join(o.dir, "flowbot.db"))
	if err != nil {
		return err
	}
	t0 := time.Now()
	s, err := start(o, fake)
	if err != nil {
		return err
	}
	defer s.stop()
	health, err := s.waitFor(ctx, "/healthz", 5*time.Minute)
	if err != nil {
		return err
	}
	ready, err := s.waitFor(ctx, "/readyz", 5*time.Minute)
	if err != nil {
		return err
	}
	// Memory is sampled every 50 ms from here on: the highest value while
	// idle (the statistics warm up from the event log in the background
	// after the start) and under the load.
	var mu sync.Mutex
	var peak int64
	sample := func() {
		if r, err := s.rss(); err == nil {
			mu.Lock()
			peak = max(peak, r)
			mu.Unlock()
		}
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(50 * time.Millisecond)
		defer t.Stop()
		for {
			sample()
			select {
			case <-stop:
				return
			case <-t.C:
			}
		}
	})
	fmt.Fprintf(out, "start → /healthz %s, → /readyz %s (%d requests, database file %.1f MB)\n",
		health.Sub(t0).Round(time.Millisecond), ready.Sub(t0).Round(time.Millisecond), n, float64(fi.Size())/(1<<20))
	time.Sleep(o.idle)
	idle, err := s.rss()
	if err != nil {
		close(stop)
		wg.Wait()
		return err
	}
	mu.Lock()
	idlePeak := peak
	peak = 0
	mu.Unlock()
	fmt.Fprintf(out, "RSS %s after start: %.1f MB (highest meanwhile %.1f MB)\n", o.idle, float64(idle)/(1<<20), float64(idlePeak)/(1<<20))
	if o.loadEvents <= 0 {
		close(stop)
		wg.Wait()
		return nil
	}
	l0 := time.Now()
	stats, err := drive(ctx, o, s, fake, o.loadEvents, out)
	took := time.Since(l0)
	close(stop)
	wg.Wait()
	if err != nil {
		return err
	}
	after, _ := s.rss()
	stats.Print(out)
	mb := func(b int64) string { return fmt.Sprintf("%.1f MB", float64(b)/(1<<20)) }
	fmt.Fprintf(out, "\n| requests stored | database file | start → /healthz | start → /readyz | RSS idle %s after start | RSS peak while idle | RSS peak under load | RSS after load | load |\n", o.idle)
	fmt.Fprintf(out, "| %d | %s | %s | %s | %s | %s | %s | %s | %d events in %s |\n", n, mb(fi.Size()),
		health.Sub(t0).Round(time.Millisecond), ready.Sub(t0).Round(time.Millisecond), mb(idle), mb(idlePeak), mb(peak), mb(after),
		o.loadEvents, took.Round(time.Second))
	return nil
}
