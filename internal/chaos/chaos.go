package chaos

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	neturl "net/url"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// Config is one chaos run.
type Config struct {
	Bin    string // the flowbot binary
	Dir    string // its config, log and database
	Events int64  // event deliveries in all
	// Kills is how many times the process is killed (SIGKILL and SIGTERM
	// in turn) at random moments; Freeze stops it once with SIGSTOP for
	// that long (0: never), then SIGCONT.
	Kills  int
	Freeze time.Duration
	// Server config overrides (notifier lease, processing hold...).
	Server map[string]any
	// Feishu adds keys to the feishu section the fake's app is in (its
	// outbound quota, "rate", for a throughput run: FeishuQuota).
	Feishu map[string]any
	Mix    Mix
	Out    io.Writer // progress and figures (nil: none)
	// Replicas > 1 runs that many `flowbot serve` sharing a new database
	// on the PostgreSQL server of Postgres (a URL to a database the run
	// may connect to, to create its own) and Redis (host:port, keys under
	// a prefix of the run), behind a balancer that spreads callbacks and
	// web calls over them; the signals hit the replicas in turn.
	Replicas int
	Postgres string
	Redis    string
	// Faults is how many times the Feishu fake refuses every send and
	// card update for FaultFor (default 3s), 429 and 500 in turn, at
	// random moments of the run.
	Faults   int
	FaultFor time.Duration
	// Restarts is how many times the PostgreSQL and Redis servers (in
	// turn, Redis first) are killed at random moments of a replicas run,
	// kept down for Down (default 1s), and started again. Only on private
	// servers: with Replicas > 1 and Postgres and Redis both empty, the
	// run starts its own (StartServers); it never restarts a server it
	// was given.
	Restarts int
	Down     time.Duration
	// Applicants adds that many employees to the example company (each
	// files one claim at a time): more conversations at once.
	Applicants int
	// Platform is where the cycles run: "feishu" (default: signed,
	// encrypted events and card clicks from the fake to /webhook/feishu)
	// or "web" (the web playground's API, as a browser; the company's
	// users are on the web platform only). Web runs take no signals,
	// faults or replicas.
	Platform string
}

// Run starts flowbot with SQLite and the Feishu fake, drives the load
// while it kills, freezes and restarts the process, then checks.
func Run(ctx context.Context, cfg Config) (*Report, *Stats, error) {
	company, err := LoadCompanyN(cfg.Applicants)
	if err != nil {
		return nil, nil, err
	}
	fake, err := NewFake("", "")
	if err != nil {
		return nil, nil, err
	}
	defer fake.Close()
	platform := cmp.Or(cfg.Platform, "feishu")
	switch {
	case platform != "feishu" && platform != "web":
		return nil, nil, fmt.Errorf("chaos: platform %q: want feishu or web", platform)
	case platform == "web" && (cfg.Kills > 0 || cfg.Freeze > 0 || cfg.Faults > 0 || cfg.Replicas > 1 || cfg.Restarts > 0):
		return nil, nil, fmt.Errorf("chaos: a web run takes no kills, freezes, faults, replicas or restarts")
	}
	srvCfg, err := writeFixtures(cfg.Dir, cfg.Applicants, platform)
	if err != nil {
		return nil, nil, err
	}
	fcfg := fake.Config()
	for k, v := range cfg.Feishu {
		fcfg[k] = v
	}
	srvCfg["feishu"] = fcfg
	for k, v := range cfg.Server {
		srvCfg[k] = v
	}
	var servers *Servers
	if cfg.Replicas > 1 && cfg.Postgres == "" && cfg.Redis == "" {
		if servers, err = StartServers(ctx); err != nil {
			return nil, nil, err
		}
		defer servers.Close()
		cfg.Postgres, cfg.Redis = servers.Postgres, servers.Redis
	}
	if cfg.Restarts > 0 && servers == nil {
		return nil, nil, fmt.Errorf("chaos: server restarts need a replicas run on private servers (no PostgreSQL URL or Redis address given)")
	}
	procs, url, dbPath, err := start(ctx, cfg, srvCfg, fake)
	for _, p := range procs {
		defer p.Kill()
	}
	if err != nil {
		return nil, nil, err
	}
	mix := cfg.Mix
	if mix.Events == 0 {
		mix = DefaultMix(cfg.Events)
	}
	d := &Driver{Fake: fake, URL: url, DB: dbPath, Mix: mix, Company: company, Out: cfg.Out}
	defer d.Close()
	if platform == "web" {
		w, err := OpenWeb(ctx, url, company.Users)
		if err != nil {
			return nil, nil, err
		}
		defer w.Close()
		d.Web = w
	}
	d.Stats = NewStats()
	cpu0 := sampleCPU(procs)
	runErr := make(chan error, 1)
	go func() { runErr <- d.Run(ctx) }()

	var kills []string
	var recovery []time.Duration
	start := time.Now()
	faults := make(chan []string, 1)
	go func() { faults <- injectFaults(ctx, cfg, fake, d, mix.Events, start) }()
	restarts := make(chan restartResult, 1)
	go func() { restarts <- restartServers(ctx, cfg, servers, d, mix.Events, start) }()
	steps := cfg.Kills
	if cfg.Freeze > 0 {
		steps++
	}
	freezeAt := -1
	if cfg.Freeze > 0 {
		freezeAt = rand.IntN(steps)
	}
	kill := 0
	for i := range steps {
		// Spread the signals over the run: the i-th after a random share
		// of the (i+1)-th slice of the events.
		at := int64((float64(i) + 0.2 + 0.6*rand.Float64()) / float64(steps) * float64(mix.Events))
		for d.events.Load() < at && ctx.Err() == nil {
			select {
			case <-ctx.Done():
			case <-time.After(time.Duration(rand.IntN(20)+1) * time.Millisecond):
			}
		}
		if ctx.Err() != nil {
			break
		}
		when := time.Since(start).Seconds()
		// Replicas in turn by pairs of signals, so each gets SIGKILL and SIGTERM.
		target := (i / 2) % len(procs)
		proc := procs[target]
		if i == freezeAt {
			if err := proc.Signal(syscall.SIGSTOP); err != nil {
				return nil, nil, err
			}
			time.Sleep(cfg.Freeze)
			if err := proc.Signal(syscall.SIGCONT); err != nil {
				return nil, nil, err
			}
			kills = append(kills, fmt.Sprintf("SIGSTOP %s at %.1fs", cfg.Freeze, when))
			continue
		}
		sig, name := syscall.SIGKILL, "SIGKILL"
		if kill%2 == 1 {
			sig, name = syscall.SIGTERM, "SIGTERM"
		}
		kill++
		if err := proc.Signal(sig); err != nil {
			return nil, nil, err
		}
		d.NoteKill()
		if !proc.Wait(30 * time.Second) {
			return nil, nil, fmt.Errorf("chaos: flowbot did not exit 30s after %s; log:\n%s", name, proc.LogTail(4000))
		}
		if len(procs) > 1 {
			name += fmt.Sprintf(" (replica %d)", target+1)
		}
		kills = append(kills, fmt.Sprintf("%s at %.1fs", name, when))
		t0 := time.Now()
		if err := startSupervised(ctx, proc); err != nil {
			return nil, nil, err
		}
		rec, err := proc.WaitReady(ctx, t0)
		if err != nil {
			return nil, nil, err
		}
		recovery = append(recovery, rec)
	}
	if err := <-runErr; err != nil {
		return nil, nil, fmt.Errorf("chaos: load: %w", err)
	}
	cpu := cpuBetween(cpu0, sampleCPU(procs))
	rr := <-restarts
	if rr.err != nil {
		return nil, nil, rr.err
	}
	if cfg.Out != nil {
		fmt.Fprintln(cfg.Out)
	}
	rep, err := d.Check(ctx, 60*time.Second)
	if err != nil {
		return nil, nil, err
	}
	rep.Kills, rep.Recovery, rep.Faults = kills, recovery, <-faults
	rep.Restarts, rep.Outages = rr.what, rr.outages
	rep.CPU, rep.Platform = cpu, platform
	return rep, d.Stats, nil
}

// LogTail is the end of the process log of a run in dir.
func LogTail(dir string, n int) string {
	return (&Process{logPath: dir + "/flowbot.log"}).LogTail(n)
}

// start starts one flowbot on SQLite, or cfg.Replicas on a new PostgreSQL
// database and Redis behind a balancer, and waits until all are ready. It
// returns the processes (to kill even on error), the URL to drive and the
// database to check.
func start(ctx context.Context, cfg Config, srvCfg map[string]any, fake *Fake) ([]*Process, string, string, error) {
	if cfg.Replicas <= 1 {
		proc, err := NewProcess(cfg.Bin, cfg.Dir, srvCfg)
		if err != nil {
			return nil, "", "", err
		}
		fake.SetWebhook(proc.URL() + "/webhook/feishu")
		if err := proc.Start(ctx); err != nil {
			return []*Process{proc}, "", "", err
		}
		if _, err := proc.WaitReady(ctx, time.Now()); err != nil {
			return []*Process{proc}, "", "", err
		}
		return []*Process{proc}, proc.URL(), proc.DBPath(), nil
	}
	if cfg.Postgres == "" || cfg.Redis == "" {
		return nil, "", "", fmt.Errorf("chaos: %d replicas need a PostgreSQL URL and a Redis address", cfg.Replicas)
	}
	run := fmt.Sprintf("chaos_%d", time.Now().UnixNano())
	dsn, err := createDatabase(ctx, cfg.Postgres, run)
	if err != nil {
		return nil, "", "", err
	}
	srvCfg["database"] = map[string]any{"driver": "postgres", "postgres": dsn}
	srvCfg["redis"] = map[string]any{"enabled": true, "addrs": []string{cfg.Redis}, "prefix": run + ":"}
	var procs []*Process
	var urls []string
	for i := range cfg.Replicas {
		dir := filepath.Join(cfg.Dir, fmt.Sprintf("replica-%d", i+1))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return procs, "", "", fmt.Errorf("chaos: %w", err)
		}
		p, err := NewProcess(cfg.Bin, dir, srvCfg)
		if err != nil {
			return procs, "", "", err
		}
		procs = append(procs, p)
		urls = append(urls, p.URL())
	}
	lb, err := newBalancer(urls)
	if err != nil {
		return procs, "", "", err
	}
	go func() { <-ctx.Done(); lb.Close() }()
	fake.SetWebhook(lb.URL + "/webhook/feishu")
	for _, p := range procs { // one after the other: the first applies the migrations
		if err := p.Start(ctx); err != nil {
			return procs, "", "", err
		}
		if _, err := p.WaitReady(ctx, time.Now()); err != nil {
			return procs, "", "", err
		}
	}
	return procs, lb.URL, dsn, nil
}

// createDatabase creates database name on the server of admin (a URL)
// and returns the URL of the new database.
func createDatabase(ctx context.Context, admin, name string) (string, error) {
	db, err := sql.Open("pgx", admin)
	if err != nil {
		return "", fmt.Errorf("chaos: open postgres: %w", err)
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		return "", fmt.Errorf("chaos: create database %s: %w", name, err)
	}
	u, err := neturl.Parse(admin)
	if err != nil {
		return "", fmt.Errorf("chaos: postgres URL: %w", err)
	}
	u.Path = "/" + name
	return u.String(), nil
}

// injectFaults makes the fake refuse sends for a while, cfg.Faults times
// spread over the run (429 and 500 in turn), and says when.
func injectFaults(ctx context.Context, cfg Config, fake *Fake, d *Driver, events int64, start time.Time) []string {
	var out []string
	dur := cmp.Or(cfg.FaultFor, 3*time.Second)
	for i := range cfg.Faults {
		at := int64((float64(i) + 0.2 + 0.6*rand.Float64()) / float64(cfg.Faults) * float64(events))
		for d.events.Load() < at && ctx.Err() == nil {
			select {
			case <-ctx.Done():
			case <-time.After(10 * time.Millisecond):
			}
		}
		if ctx.Err() != nil {
			break
		}
		status := http.StatusTooManyRequests
		if i%2 == 1 {
			status = http.StatusInternalServerError
		}
		fake.Fault(status, dur)
		out = append(out, fmt.Sprintf("%d for %s at %.1fs", status, dur, time.Since(start).Seconds()))
	}
	return out
}

// restartResult is what restartServers did.
type restartResult struct {
	what    []string        // "redis SIGKILL at 12.3s"
	outages []time.Duration // stop to serving again
	err     error
}

// restartServers kills and restarts the private Redis and PostgreSQL in
// turn, cfg.Restarts times spread over the run, while the load goes on.
func restartServers(ctx context.Context, cfg Config, s *Servers, d *Driver, events int64, start time.Time) restartResult {
	var r restartResult
	if s == nil {
		return r
	}
	down := cmp.Or(cfg.Down, time.Second)
	for i := range cfg.Restarts {
		at := int64((float64(i) + 0.3 + 0.4*rand.Float64()) / float64(cfg.Restarts) * float64(events))
		for d.events.Load() < at && ctx.Err() == nil {
			select {
			case <-ctx.Done():
			case <-time.After(10 * time.Millisecond):
			}
		}
		if ctx.Err() != nil {
			break
		}
		server, how := "redis", "SIGKILL"
		if i%2 == 1 {
			server, how = "postgres", "immediate stop"
		}
		when := time.Since(start).Seconds()
		out, err := s.Restart(ctx, server, down)
		if err != nil {
			r.err = err
			return r
		}
		r.what = append(r.what, fmt.Sprintf("%s %s at %.1fs, down %s", server, how, when, round(out)))
		r.outages = append(r.outages, out)
	}
	return r
}

// startSupervised starts proc again as a supervisor (systemd, Kubernetes)
// does: an incarnation that exits at start (its database is down for a
// server restart of the run) is started again every 500 ms, for at most
// a minute.
func startSupervised(ctx context.Context, proc *Process) error {
	deadline := time.Now().Add(time.Minute)
	for {
		err := proc.Start(ctx)
		if err == nil || ctx.Err() != nil || time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// FeishuQuota is the Config.Feishu that gives flowbot an outbound quota
// of perSecond messages a second (and 60 times that a minute) per app and
// per chat, instead of Feishu's own (50/s and 1,000/min per app, 5/s per
// chat): for runs that measure flowbot rather than the quota.
func FeishuQuota(perSecond float64) map[string]any {
	return map[string]any{"rate": map[string]any{"app_per_second": perSecond, "app_per_minute": perSecond * 60, "chat_per_second": perSecond}}
}
