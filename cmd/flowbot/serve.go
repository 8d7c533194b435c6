package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/flowbot/flowbot/adapters/web"
	"github.com/flowbot/flowbot/bots"
	"github.com/flowbot/flowbot/bots/dirsync"
	"github.com/flowbot/flowbot/bots/notify"
	"github.com/flowbot/flowbot/bots/schedule"
	"github.com/flowbot/flowbot/charts"
	"github.com/flowbot/flowbot/examples"
	"github.com/flowbot/flowbot/flows"
	"github.com/flowbot/flowbot/flows/flowdef"
	"github.com/flowbot/flowbot/flows/flowstats"
	"github.com/flowbot/flowbot/flows/orgfile"
	"github.com/flowbot/flowbot/flows/workcal"
	"github.com/flowbot/flowbot/signin"
	"github.com/flowbot/flowbot/store/sqlite"
)

// shiftClock is the engine's clock: real time plus an offset that the
// playground's demo control moves forward.
type shiftClock struct{ offset atomic.Int64 }

func (c *shiftClock) Now() time.Time { return time.Now().Add(time.Duration(c.offset.Load())) }
func (c *shiftClock) Advance(d time.Duration) time.Time {
	c.offset.Add(int64(d))
	return c.Now()
}

// app is one running flowbot process: everything `serve` wires together.
type app struct {
	cfg      Config
	owner    owner // this process among replicas (owner.go)
	log      *slog.Logger
	store    flows.Store
	state    kvStores
	clock    *shiftClock
	files    *blobFiles // attachments; nil when off
	engine   *flows.Engine
	bot      *bots.Bot
	notifier *notify.Notifier
	sched    *schedule.Scheduler
	dirSync  *dirsync.Syncer // the scheduled directory sync (nil: none)
	// dirEvents applies the platforms' directory change events (its
	// Syncer nil: no platform under directory.sync).
	dirEvents dirEvents
	// dirLockSeq numbers the owners of the directory lock taken by the API.
	dirLockSeq atomic.Int64
	web        *web.Adapter
	signin     *signin.Service // web sign-in (nil: demo mode or off)
	metrics    *metrics
	// stats folds the event log for the dashboard and the bot's forecasts.
	stats *flowstats.Aggregate
	// charts draws the dashboard's and the owners' reports' charts (nil:
	// the fonts did not load; both then go without charts).
	charts  *charts.Renderer
	mux     *http.ServeMux
	closers []func() error
	// adapters are the platform adapters' Close: serve's drain closes
	// them after the HTTP server and before the notifier's drain.
	adapters []func() error
	starters []func(ctx context.Context) error // long connections, started by serve
	// ready are the adapters' readiness checks for /readyz, by name
	// ("dingtalk" for its Stream connections...).
	ready map[string]func(ctx context.Context) error
}

// kvStores are the chat layer's state, dedupe and locks, and a readiness
// check of where they live.
type kvStores struct {
	state  bots.StateStore
	dedupe bots.Deduper // once-only marks that outlive a restart (the scheduler's)
	events bots.Deduper // the bot's inbound event ids
	locker bots.Locker
	ping   func(ctx context.Context) error
	close  func() error
}

func cmdServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fset := flag.NewFlagSet("serve", flag.ContinueOnError)
	fset.SetOutput(stderr)
	cfgPath := fset.String("config", "", "config file (default: built-in defaults)")
	addr := fset.String("addr", "", "listen address (overrides http.addr)")
	if err := fset.Parse(args); err != nil {
		return errUsage
	}
	cfg, err := loadConfig(*cfgPath)
	if err != nil {
		return err
	}
	if *cfgPath == "" {
		// The embedded defaults are the try-it-out mode: the playground
		// lets you act as anyone and move the clock.
		cfg.Playground.Demo = true
	}
	if *addr != "" {
		cfg.HTTP.Addr = *addr
	} else if env := os.Getenv("FLOWBOT_HTTP_ADDR"); env != "" && *cfgPath == "" {
		cfg.HTTP.Addr = env
	}
	stopProfile, err := startCPUProfile()
	if err != nil {
		return err
	}
	defer stopProfile()
	a, err := newApp(ctx, cfg, stderr)
	if err != nil {
		return err
	}
	defer a.close()
	ln, err := net.Listen("tcp", cfg.HTTP.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.HTTP.Addr, err)
	}
	fmt.Fprintf(stdout, "flowbot is running: open http://%s/ui/\n", ln.Addr())
	return a.serve(ctx, ln)
}

func newLogger(cfg LogConfig, w io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(cfg.Level))
	opts := &slog.HandlerOptions{Level: level}
	if cfg.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// newApp opens the stores, loads flows and directory, and wires the engine,
// bot, notifier, scheduler and adapters.
func newApp(ctx context.Context, cfg Config, logw io.Writer) (_ *app, err error) {
	a := &app{cfg: cfg, log: newLogger(cfg.Log, logw), clock: &shiftClock{}, mux: http.NewServeMux()}
	defer func() {
		if err != nil {
			a.close()
		}
	}()
	a.owner = newOwner(cfg)
	if a.store, err = openStoreAs(ctx, cfg, a.owner, a.log); err != nil {
		return nil, err
	}
	a.closers = append(a.closers, a.store.Close)
	if a.state, err = openKV(ctx, cfg, a.owner, a.store); err != nil {
		return nil, err
	}
	if a.state.close != nil {
		a.closers = append(a.closers, a.state.close)
	}
	if err := a.releaseDeadClaims(ctx); err != nil {
		return nil, err
	}
	cal, err := loadCalendar(cfg.Calendar.File)
	if err != nil {
		return nil, err
	}
	a.engine = flows.New(flows.Config{Store: a.store, Clock: a.clock, Calendar: cal, UrgeInterval: cfg.Engine.UrgeInterval, Logger: a.log})
	if db, ok := a.store.(*sqlite.DB); ok {
		// The engine serves views of the requests it wrote from what it
		// wrote; a command run beside serve (directory sync) writes too.
		db.OnForeignWrite(a.engine.ForgetRecent)
	}
	if err := a.loadDirectory(ctx); err != nil {
		return nil, err
	}
	if err := a.publishFlows(ctx); err != nil {
		return nil, err
	}
	a.metrics = newMetrics(a.store)
	if err := a.setupWebhooks(); err != nil {
		return nil, err
	}
	files, err := a.setupFiles(ctx)
	if err != nil {
		return nil, err
	}
	a.stats = flowstats.NewAggregate(cal)
	bc := bots.Config{
		Engine: a.engine, Store: a.store, State: a.state.state, Dedupe: a.state.events, Inbox: inboxOf(a.store), Logger: a.log, Stats: a.stats,
		ConversationTTL: cfg.Bot.ConversationTTL, DedupeTTL: cfg.Bot.DedupeTTL, ProcessingTTL: cfg.Bot.ProcessingTTL, AdminContact: cfg.Bot.AdminContact,
		Prefs: prefsOf(a.store),
	}
	if files != nil {
		bc.Files, a.files = files, files
	}
	a.bot = bots.New(bc)
	messengers := map[string]bots.Messenger{}
	var h handler = countingHandler{next: a.bot, m: a.metrics, kick: func() { a.nudge() }}
	if err := checkDemo(cfg); err != nil {
		return nil, err
	}
	if err := a.setupSignIn(ctx); err != nil {
		return nil, err
	}
	switch {
	case cfg.Playground.Enabled && !cfg.Playground.Demo && a.signin == nil:
		a.log.Info("playground off: outside demo mode it needs sign-in (sign_in.enabled: true), or demo mode (playground.demo: true), never next to real users")
	case cfg.Playground.Enabled:
		wc := web.Config{Handler: h, Users: a.webUsers, Now: a.clock.Now, Demo: cfg.Playground.Demo, Logger: a.log}
		var ui http.Handler
		if cfg.Playground.Demo {
			wc.Advance = a.advance
			a.web = web.New(wc)
			ui = http.StripPrefix("/ui", a.web.Handler())
		} else {
			// The signed-in user's own web client: it acts as that user only.
			wc.Identify = a.identifyWeb
			a.web = web.New(wc)
			ui = a.signin.Require(http.StripPrefix("/ui", a.web.Handler()))
		}
		messengers["web"] = a.web
		a.mux.Handle("/ui/", ui)
		a.mux.Handle("/{$}", http.RedirectHandler("/ui/", http.StatusFound))
	}
	if err := a.wireDirEvents(); err != nil {
		return nil, err
	}
	for _, wire := range []func(context.Context, handler, map[string]bots.Messenger) error{a.wireFeishu, a.wireDingTalk, a.wireWeCom, a.wireTeams} {
		if err := wire(ctx, h, messengers); err != nil {
			return nil, err
		}
	}
	if a.web != nil && cfg.Playground.Demo {
		a.log.Warn("playground in DEMO mode: anyone who reaches " + cfg.HTTP.Addr + " can act as any user and move the clock; set playground.demo: false in production")
		if real := realPlatforms(cfg); len(real) > 0 {
			a.log.Warn("DANGER: playground.allow_demo_with_real_platforms is set: demo mode runs next to real platforms (" + strings.Join(real, ", ") +
				"): anyone who reaches " + cfg.HTTP.Addr + " can file and decide real requests as any real user")
		}
	}
	if a.charts, err = charts.NewRenderer(); err != nil {
		a.log.Error("chart fonts did not load; charts are off", "err", err)
	}
	a.notifier = notify.New(notify.Config{
		Store: a.store, Renderer: a.bot, Messengers: messengers, HTTP: a.engine, Clock: a.clock.Now,
		Lease: cfg.Notifier.Lease, Batch: cfg.Notifier.Batch, Workers: cfg.Notifier.Workers, Poll: cfg.Notifier.Poll,
		Logger: a.log, Metrics: a.metrics,
		OnePlatform: cfg.Notifier.Delivery == "one", Prefs: prefsOf(a.store), Order: cfg.Notifier.PlatformOrder,
	})
	if db, ok := a.store.(*sqlite.DB); ok {
		// Messages written due now go to an idle worker already claimed,
		// without a claim of their own.
		db.SetTaker(a.notifier)
	}
	a.sched = schedule.New(schedule.Config{
		Store: a.store, Ticker: a.engine, Locker: a.state.locker, Deduper: a.state.dedupe, State: a.state.state,
		Clock: a.clock.Now, LockTTL: cfg.Scheduler.LockTTL, TickSpec: cfg.Scheduler.Tick, DigestSpec: cfg.Scheduler.Digest, ReportSpec: cfg.Scheduler.Report,
		StepName: a.stepName, Kick: a.kick, Logger: a.log, Metrics: a.metrics, DashboardURL: dashboardURL(cfg),
		Stats: a.stats, Flows: a.dashboardFlows, Forecast: a.bot.ForecastOf, OwnerCharts: ownerChartsFor(a.files, dashboardURL(cfg)),
		ChartRenderer: a.charts,
	})
	if err := a.wireDirSync(); err != nil {
		return nil, err
	}
	a.routes()
	a.wireDashboard(cal)
	return a, nil
}

// releaseDeadClaims frees the outbox claims and event holds a killed
// earlier run left: its cards go out at once instead of after their lease,
// and the events it was handling are handled when the platform redelivers
// them. Alone on a SQLite file (no Redis) everything held is the dead
// predecessor's. With replicas (PostgreSQL, Redis) only what an earlier run
// of this instance (server.instance) held is freed; other replicas' claims
// and holds run out by themselves.
func (a *app) releaseDeadClaims(ctx context.Context) error {
	var claims, holds int
	if db, ok := a.store.(*sqlite.DB); ok && !a.cfg.Redis.Enabled {
		c, h, err := db.ReleaseDeadClaims(ctx, a.clock.Now())
		if err != nil {
			return err
		}
		claims, holds = c, h
	} else {
		if r, ok := a.store.(interface {
			ReleaseDeadClaims(context.Context, time.Time) (int, error)
		}); ok {
			n, err := r.ReleaseDeadClaims(ctx, a.clock.Now())
			if err != nil {
				return err
			}
			claims = n
		}
		if r, ok := a.state.dedupe.(interface {
			ReleaseDeadHolds(context.Context) (int, error)
		}); ok {
			// Redis may be down at start (not fatal): the holds then run out.
			n, err := r.ReleaseDeadHolds(ctx)
			if err != nil {
				a.log.Warn("release event holds of an earlier run", "instance", a.owner.instance, "err", err)
			}
			holds = n
		}
	}
	if claims+holds > 0 {
		a.log.Info("released what an earlier run left unfinished", "instance", a.owner.instance, "outbox_claims", claims, "event_holds", holds)
	}
	return nil
}

// inboxOf is the inbox of late events kept by the store (both SQL stores
// have one).
func inboxOf(st flows.Store) bots.Inbox {
	if s, ok := st.(interface{ Inbox() bots.Inbox }); ok {
		return s.Inbox()
	}
	return nil
}

// alone reports whether this process is the only one on its database
// (SQLite without Redis): what is held or kept there is its dead
// predecessor's.
func (a *app) alone() bool {
	_, ok := a.store.(*sqlite.DB)
	return ok && !a.cfg.Redis.Enabled
}

// replayInbox hands the events kept in the inbox and never finished (a
// click answered "processing" whose process died) to the bot. Alone on
// its database, a starting process replays all of them at once; with
// replicas, those whose hold has run out.
func (a *app) replayInbox(ctx context.Context) {
	due := time.Now()
	if a.alone() {
		due = due.Add(24 * time.Hour)
	}
	rep, err := a.bot.ReplayInbox(ctx, due)
	if err != nil {
		a.log.Warn("replay inbox at start", "err", err)
		return
	}
	if rep != (bots.InboxReport{}) {
		a.log.Info("replayed events kept by an earlier run", "handled", rep.Handled, "duplicates", rep.Duplicates,
			"in_flight", rep.InFlight, "failed", rep.Failed, "abandoned", rep.Abandoned)
		a.kick()
	}
}

// closeAdapters closes the platform adapters once: each lets the work it
// acknowledged finish within http.shutdown_grace.
func (a *app) closeAdapters() {
	for _, c := range a.adapters {
		if err := c(); err != nil {
			a.log.Warn("close adapter", "err", err)
		}
	}
	a.adapters = nil
}

// kick wakes the notifier: an engine call may have written messages.
func (a *app) kick() {
	if a.notifier != nil {
		a.notifier.Kick()
	}
}

// nudge wakes the notifier after an event was handled, unless the
// messages it wrote were taken by idle workers as they were written.
func (a *app) nudge() {
	if a.notifier != nil {
		a.notifier.Nudge()
	}
}

// advance is the playground's demo clock control: move the clock, run what
// became due (reminders, escalations, digests), deliver at once.
func (a *app) advance(ctx context.Context, d time.Duration) (time.Time, error) {
	if d <= 0 || d > 31*24*time.Hour {
		return a.clock.Now(), fmt.Errorf("advance: %s is out of range (0, 31 days]", d)
	}
	now := a.clock.Advance(d)
	if err := a.sched.RunDue(ctx, now); err != nil {
		return now, fmt.Errorf("run due work: %w", err)
	}
	a.kick()
	return now, nil
}

// stepName names a flow's step for the digest.
func (a *app) stepName(ctx context.Context, flowID, stepID string) (flowdef.Text, bool) {
	d, err := a.engine.Definition(ctx, flowID, 0)
	if err != nil {
		return flowdef.Text{}, false
	}
	s, _ := d.Step(stepID)
	if s == nil {
		return flowdef.Text{}, false
	}
	return s.Name, true
}

func (a *app) webUsers(ctx context.Context) ([]web.User, error) {
	users, err := a.store.Users(ctx)
	if err != nil {
		return nil, err
	}
	depts, err := a.store.Departments(ctx)
	if err != nil {
		return nil, err
	}
	names := map[string]string{}
	for _, d := range depts {
		names[d.ID] = d.Name
		if d.NameEN != "" {
			names[d.ID] = d.Name + " / " + d.NameEN
		}
	}
	out := make([]web.User, 0, len(users))
	for _, u := range users {
		out = append(out, web.User{ID: webID(u), Name: u.Name, Department: names[u.Dept], Roles: u.Roles, Locale: u.Locale, TZ: u.TZ})
	}
	return out, nil
}

func (a *app) routes() {
	a.mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("ok\n"))
	})
	a.mux.HandleFunc("GET /readyz", a.readyz)
	a.mux.Handle("GET /metrics", promhttp.HandlerFor(a.metrics.reg, promhttp.HandlerOpts{}))
	a.adminAPI()
}

// readyz reports each dependency: 200 when all answer, 503 otherwise.
func (a *app) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	checks := map[string]error{}
	_, checks["database"] = a.store.OutboxDepth(ctx)
	if a.state.ping != nil {
		checks["state"] = a.state.ping(ctx)
	}
	for name, check := range a.ready {
		checks[name] = check(ctx)
	}
	status := http.StatusOK
	names := sortedKeys(checks)
	var body []byte
	for _, n := range names {
		line := n + ": ok\n"
		if err := checks[n]; err != nil {
			status = http.StatusServiceUnavailable
			line = n + ": " + err.Error() + "\n"
		}
		body = append(body, line...)
	}
	w.WriteHeader(status)
	w.Write(body)
}

// serve runs HTTP, the notifier and the scheduler until ctx ends, then
// shuts down gracefully: in-flight requests finish first.
func (a *app) serve(ctx context.Context, ln net.Listener) error {
	hc := a.cfg.HTTP
	srv := &http.Server{
		Handler:           guard(a.mux, hc),
		ReadHeaderTimeout: hc.ReadTimeout,
		WriteTimeout:      hc.WriteTimeout,
		IdleTimeout:       hc.IdleTimeout,
	}
	ln = newLimitListener(ln, hc.MaxConns)
	bg, stopBG := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := a.notifier.Run(bg); err != nil && !errors.Is(err, context.Canceled) {
			a.log.Error("notifier stopped", "err", err)
		}
	}()
	// The statistics rebuild from the event log in the background (seconds
	// at a million events); meanwhile the dashboard says "warming up" and
	// cards carry no forecast.
	warmed := a.stats.Warm(bg, a.store)
	go func() {
		if err := <-warmed; err != nil && !errors.Is(err, context.Canceled) {
			a.log.Error("warm statistics", "err", err)
		}
	}()
	if a.files != nil && a.files.cleaner != nil {
		go a.files.cleaner.Run(bg) // orphan attachments; ends with bg
	}
	if err := a.sched.Start(bg); err != nil {
		stopBG()
		<-done
		return fmt.Errorf("start scheduler: %w", err)
	}
	for _, start := range a.starters {
		if err := start(bg); err != nil {
			stopBG()
			<-done
			return fmt.Errorf("start adapter: %w", err)
		}
	}
	if a.web != nil {
		srv.RegisterOnShutdown(func() { _ = a.web.Close() })
	}
	inboxCtx, stopInbox := context.WithCancel(bg)
	inboxDone := make(chan struct{})
	go func() {
		defer close(inboxDone)
		// Not before listening: a replayed event may take its handler's
		// whole deadline.
		a.replayInbox(inboxCtx)
		a.bot.RunInbox(inboxCtx, max(a.cfg.Bot.ProcessingTTL/3, 100*time.Millisecond))
	}()
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	a.log.Info("serving", "addr", ln.Addr().String(), "database", a.cfg.Database.Driver)
	var err error
	select {
	case <-ctx.Done():
	case err = <-errc:
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), a.cfg.HTTP.ShutdownTimeout)
	defer cancel()
	if serr := srv.Shutdown(shutdownCtx); serr != nil {
		a.log.Warn("shutdown", "err", serr)
	}
	// In-flight events are answered. Work the adapters acknowledged before
	// it finished (slow clicks) gets http.shutdown_grace; what it wrote to
	// the outbox is then flushed with the rest. Anything cut off stays in
	// the inbox for the next run.
	a.closeAdapters()
	stopInbox()
	<-inboxDone
	// Now the notifier finishes the batch in hand and delivers what is due
	// for the drain period, so that a deploy leaves no claimed message
	// waiting out its lease.
	a.sched.Stop()
	a.notifier.Stop(a.cfg.Notifier.DrainTimeout)
	select {
	case <-done:
	case <-time.After(a.cfg.Notifier.DrainTimeout + a.cfg.Notifier.Lease):
		a.log.Warn("notifier did not finish within its drain period")
	}
	stopBG()
	<-done
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}

func (a *app) close() {
	a.closeAdapters()
	for i := len(a.closers) - 1; i >= 0; i-- {
		if err := a.closers[i](); err != nil {
			a.log.Warn("close", "err", err)
		}
	}
	a.closers = nil
}

// loadDirectory imports directory.file at start, or the example company
// when no file is configured and the directory is empty.
func (a *app) loadDirectory(ctx context.Context) error {
	name, src := a.cfg.Directory.File, []byte(nil)
	if name != "" {
		b, err := os.ReadFile(name)
		if err != nil {
			return fmt.Errorf("read directory file: %w", err)
		}
		src = b
	} else {
		users, err := a.store.Users(ctx)
		if err != nil {
			return fmt.Errorf("list users: %w", err)
		}
		if len(users) > 0 {
			return nil
		}
		if src, err = examples.FS.ReadFile("org.yaml"); err != nil {
			return fmt.Errorf("read example company: %w", err)
		}
		name = "org.yaml"
	}
	users, depts, err := orgfile.Parse(filepath.Base(name), src)
	if err != nil {
		return fmt.Errorf("directory %s: %w", name, err)
	}
	balances, err := orgfile.Balances(filepath.Base(name), src, users, time.Now())
	if err != nil {
		return fmt.Errorf("directory %s: %w", name, err)
	}
	if err := a.store.ReplaceDirectory(ctx, users, depts); err != nil {
		return fmt.Errorf("import directory: %w", err)
	}
	if len(balances) > 0 {
		if err := a.store.UpsertBalances(ctx, balances, time.Now().UTC()); err != nil {
			return fmt.Errorf("import balances: %w", err)
		}
	}
	a.log.Info("directory loaded", "file", name, "users", len(users), "departments", len(depts), "balances", len(balances))
	return nil
}

// publishFlows publishes every flow of flows.dir (or the examples); a
// changed file becomes a new version.
func (a *app) publishFlows(ctx context.Context) error {
	srcs := map[string][]byte{}
	if dir := a.cfg.Flows.Dir; dir != "" {
		// The folder as a whole first: duplicate ids and aliases across
		// files are mistakes, not new versions of each other.
		if _, _, err := flowdef.ParseDir(dir); err != nil {
			return fmt.Errorf("flows %s: %w", dir, err)
		}
		matches, err := filepath.Glob(filepath.Join(dir, "*.y*ml"))
		if err != nil {
			return fmt.Errorf("list flows: %w", err)
		}
		for _, m := range matches {
			b, err := os.ReadFile(m)
			if err != nil {
				return fmt.Errorf("read flow: %w", err)
			}
			srcs[m] = b
		}
	} else {
		var err error
		if srcs, err = embeddedFlows(); err != nil {
			return err
		}
	}
	names := sortedKeys(srcs)
	sort.Strings(names)
	var errs []error
	for _, n := range names {
		d, v, err := a.engine.PublishFlow(ctx, n, srcs[n])
		if err != nil {
			errs = append(errs, err)
			continue
		}
		a.log.Info("flow published", "flow", d.ID, "version", v)
	}
	return errors.Join(errs...)
}

func loadCalendar(file string) (*workcal.Calendar, error) {
	var src []byte
	var err error
	if file == "" {
		src, err = examples.FS.ReadFile("calendar.yaml")
	} else {
		src, err = os.ReadFile(file)
	}
	if err != nil {
		return nil, fmt.Errorf("read calendar: %w", err)
	}
	cal, err := workcal.Parse(src)
	if err != nil {
		return nil, fmt.Errorf("calendar %s: %w", file, err)
	}
	return cal, nil
}

// openStore opens the configured database for a command that claims no
// outbox messages; opening runs its migrations.
func openStore(ctx context.Context, cfg Config, log *slog.Logger) (flows.Store, error) {
	return openStoreAs(ctx, cfg, owner{}, log)
}

// openStoreAs opens the configured database for serve, whose outbox
// claims are tagged with o; opening runs its migrations.
func openStoreAs(ctx context.Context, cfg Config, o owner, log *slog.Logger) (flows.Store, error) {
	switch cfg.Database.Driver {
	case "postgres":
		return openPostgres(ctx, cfg.Database.Postgres, o, log)
	default:
		db, err := sqlite.Open(ctx, cfg.Database.SQLite, sqlite.WithLogger(log))
		if err != nil {
			return nil, fmt.Errorf("open sqlite %s: %w", cfg.Database.SQLite, err)
		}
		return db, nil
	}
}

// openKV picks where conversation state, dedupe keys and locks live:
// Redis when enabled, else the SQLite database.
func openKV(ctx context.Context, cfg Config, o owner, st flows.Store) (kvStores, error) {
	if cfg.Redis.Enabled {
		return openRedis(ctx, cfg.Redis, o, cfg.Bot.ProcessingTTL)
	}
	db, ok := st.(*sqlite.DB)
	if !ok {
		return kvStores{}, errors.New("config: redis.enabled: with database.driver postgres, Redis must be enabled for conversation state, dedupe and locks")
	}
	// This process alone uses the file: an event's hold while it is
	// handled lives in its memory (EventDeduper).
	return kvStores{state: db.StateStore(), dedupe: db.Deduper(), events: db.EventDeduper(), locker: db.Locker()}, nil
}

// webID is a user's id in the playground: their "web" platform id, or
// their directory id.
func webID(u *flows.User) string {
	if id := u.Platforms["web"]; id != "" {
		return id
	}
	return u.ID
}
