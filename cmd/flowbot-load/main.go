package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/flowbot/flowbot/internal/chaos"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	ok, err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return
		}
		fmt.Fprintln(os.Stderr, "flowbot-load:", err)
		os.Exit(2)
	}
	if !ok {
		os.Exit(1)
	}
}

// run parses args, runs the load (or the chaos run) and reports whether
// every check passed.
func run(ctx context.Context, args []string, out, errOut io.Writer) (bool, error) {
	fs := flag.NewFlagSet("flowbot-load", flag.ContinueOnError)
	fs.SetOutput(errOut)
	def := chaos.DefaultMix(0)
	var (
		setup    = fs.String("setup", "flowbot-load", "directory for the flow, the company file (and, in chaos mode, flowbot's config, log and database)")
		url      = fs.String("url", "http://127.0.0.1:8080", "the running flowbot's base URL")
		db       = fs.String("db", "./flowbot.db", "the running flowbot's SQLite file (read-only)")
		fakeAddr = fs.String("fake", "127.0.0.1:9999", "address of the Feishu fake (flowbot's feishu base_url)")
		events   = fs.Int64("events", 2000, "event deliveries in all, duplicates included")
		chaosRun = fs.Bool("chaos", false, "start flowbot (-bin) on SQLite and kill, freeze and restart it")
		bin      = fs.String("bin", "flowbot", "chaos: the flowbot binary")
		kills    = fs.Int("kills", 3, "chaos: SIGKILL and SIGTERM in turn, at random moments")
		freeze   = fs.Duration("freeze", 4*time.Second, "chaos: one SIGSTOP this long, then SIGCONT (0: none)")
		lease    = fs.String("lease", "3s", "chaos: notifier.lease of the started flowbot")
		hold     = fs.String("hold", "3s", "chaos: bot.processing_ttl of the started flowbot")
		workers  = fs.Int("workers", 4, "chaos: notifier.workers of the started flowbot")
		faults   = fs.Int("faults", 0, "chaos: times the Feishu fake refuses every send for -fault-for (429 and 500 in turn)")
		faultFor = fs.Duration("fault-for", 3*time.Second, "chaos: length of each -faults window")
		replicas = fs.Int("replicas", 1, "chaos: flowbot processes; more than 1 share a new database on -postgres and Redis at -redis, behind a balancer")
		pgURL    = fs.String("postgres", "postgres://postgres@127.0.0.1:5432/test", "chaos with -replicas: a PostgreSQL URL the run connects to, to create its own database")
		redisAdr = fs.String("redis", "127.0.0.1:6379", "chaos with -replicas: the Redis server")
		private  = fs.Bool("private", false, "chaos with -replicas: start a private PostgreSQL and Redis (initdb, pg_ctl, redis-server) on free ports instead of -postgres and -redis")
		restarts = fs.Int("restarts", 0, "chaos with -replicas -private: times Redis (SIGKILL) and PostgreSQL (immediate stop) are restarted in turn under load")
		down     = fs.Duration("down", time.Second, "chaos: how long a restarted server stays down")
		wait     = fs.Duration("wait", 5*time.Minute, "how long to wait for the server's /readyz")
		quota    = fs.Float64("feishu-quota", 0, "chaos: the Feishu app's outbound quota per second (and per chat) given to the started flowbot; 0: Feishu's own, 50/s and 1,000/min per app, 5/s per chat")
	)
	fs.Float64Var(&def.ByConversation, "by-conversation", def.ByConversation, "share of filings submitted by typing \"submit\" (the rest click the card)")
	fs.Float64Var(&def.Reject, "reject", def.Reject, "share of requests rejected")
	fs.Float64Var(&def.Withdraw, "withdraw", def.Withdraw, "share of requests withdrawn (over the web API)")
	fs.Float64Var(&def.Leave, "leave", def.Leave, "share of requests left undecided")
	fs.Float64Var(&def.Dup, "dup", def.Dup, "share of events delivered twice at once")
	fs.Float64Var(&def.DelayedDup, "late-dup", def.DelayedDup, "share of events delivered again later")
	fs.DurationVar(&def.DupDelay, "late-dup-delay", def.DupDelay, "longest delay of a late duplicate")
	fs.Float64Var(&def.DoubleClick, "double-click", def.DoubleClick, "share of clicks made twice")
	fs.IntVar(&def.PerApplicant, "per-applicant", def.PerApplicant, "workers per applicant")
	if err := fs.Parse(args); err != nil {
		return false, err
	}
	def.Events = *events
	dir, err := filepath.Abs(*setup)
	if err != nil {
		return false, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return false, err
	}
	if *chaosRun {
		if *private {
			*pgURL, *redisAdr = "", ""
		}
		var feishu map[string]any
		if *quota > 0 {
			feishu = chaos.FeishuQuota(*quota)
		}
		rep, stats, err := chaos.Run(ctx, chaos.Config{Feishu: feishu, Bin: *bin, Dir: dir, Events: *events, Kills: *kills, Freeze: *freeze, Mix: def, Out: out,
			Replicas: *replicas, Postgres: *pgURL, Redis: *redisAdr, Faults: *faults, FaultFor: *faultFor,
			Restarts: *restarts, Down: *down,
			Server: map[string]any{"notifier": map[string]any{"lease": *lease, "poll": "100ms", "workers": *workers}, "bot": map[string]any{"processing_ttl": *hold}}})
		if err != nil {
			return false, err
		}
		stats.Print(out)
		rep.Print(out)
		return rep.OK(), nil
	}
	return load(ctx, dir, *url, *db, *fakeAddr, *wait, def, out)
}

// load drives a server someone else runs.
func load(ctx context.Context, dir, url, db, fakeAddr string, wait time.Duration, mix chaos.Mix, out io.Writer) (bool, error) {
	company, err := chaos.LoadCompany()
	if err != nil {
		return false, err
	}
	cfg, err := chaos.WriteFixtures(dir)
	if err != nil {
		return false, err
	}
	fake, err := chaos.NewFake(fakeAddr, url+"/webhook/feishu")
	if err != nil {
		return false, err
	}
	defer fake.Close()
	cfg["feishu"] = fake.Config()
	b, err := yaml.Marshal(cfg)
	if err != nil {
		return false, err
	}
	fmt.Fprintf(out, "Feishu fake at %s. Give `flowbot serve` these config keys (and playground.demo: true):\n\n%s\nwaiting for %s/readyz ...\n", fake.URL, b, url)
	wctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	for {
		resp, err := http.Get(url + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		select {
		case <-wctx.Done():
			return false, fmt.Errorf("%s/readyz: %w", url, wctx.Err())
		case <-time.After(500 * time.Millisecond):
		}
	}
	d := &chaos.Driver{Fake: fake, URL: url, DB: db, Mix: mix, Company: company, Stats: chaos.NewStats(), Out: out}
	defer d.Close()
	if err := d.Run(ctx); err != nil {
		return false, err
	}
	fmt.Fprintln(out)
	rep, err := d.Check(ctx, time.Minute)
	if err != nil {
		return false, err
	}
	d.Stats.Print(out)
	rep.Print(out)
	return rep.OK(), nil
}
