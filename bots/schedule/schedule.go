package schedule

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/flowbot/flowbot/bots"
	"github.com/flowbot/flowbot/charts"
	"github.com/flowbot/flowbot/flows"
	"github.com/flowbot/flowbot/flows/flowdef"
	"github.com/flowbot/flowbot/flows/flowstats"
)

// Ticker runs the due reminders, escalations and timeouts (the engine).
type Ticker interface {
	Tick(ctx context.Context, now time.Time) (flows.TickResult, error)
}

// Metrics observes the scheduler. Optional.
type Metrics interface {
	// TickDuration records how long one Tick took.
	TickDuration(d time.Duration)
}

// Job names, also the suffix of their lock names.
const (
	JobTick   = "tick"
	JobDigest = "digest"
	JobReport = "report"
)

// Config configures a Scheduler.
type Config struct {
	Store   flows.Store
	Ticker  Ticker
	Locker  bots.Locker  // nil: every job runs here (one replica)
	Deduper bots.Deduper // required for digests and reports
	Clock   func() time.Time
	// TickSpec is the cron spec of Tick, with an optional seconds field
	// (default "*/30 * * * * *").
	TickSpec string
	// DigestSpec is when a manager gets the digest, in the manager's time
	// zone (default "0 9 * * *").
	DigestSpec string
	// ReportSpec is when admins get the monthly report, in their time
	// zone (default "0 9 1 * *").
	ReportSpec string
	// DefaultTZ is the zone of users without one (default Asia/Shanghai).
	DefaultTZ string
	// State keeps each job's last run, so that a restart or another
	// replica resumes where the last run stopped. nil: kept in memory.
	State bots.StateStore
	// CatchUp is how far back the first run of a job (no last run known)
	// looks for a due digest or report (default 1h).
	CatchUp time.Duration
	// LockTTL is the lease of a job's lock (default 5m).
	LockTTL time.Duration
	// StepName names a flow's step in texts; nil or false: the step id.
	StepName func(ctx context.Context, flowID, stepID string) (flowdef.Text, bool)
	// DashboardURL, when set, is linked from the digest and the monthly
	// report.
	DashboardURL string
	// Kick is called after messages were enqueued (the notifier's Kick).
	Kick func()
	// OwnerCharts, when set, keeps the chart of each owner's monthly
	// report (shown on the card where the platform can) and signs the
	// report page's links.
	OwnerCharts OwnerCharts
	// ChartRenderer draws the owners' charts; share the process's one
	// (nil: the scheduler makes its own at the first report that needs it).
	ChartRenderer *charts.Renderer
	// Stats and Flows, when both set, send each flow's owner (the flow's
	// owner key) its monthly process-health report at ReportSpec.
	Stats *flowstats.Aggregate
	Flows func(ctx context.Context) ([]*flowdef.Definition, error)
	// Forecast, when set, predicts an open request's finish (the bot's
	// forecast; nil forecast: none) and the scheduler re-predicts the
	// running tasks at BreachSpec, telling the approver and the flow's
	// owner (from Flows) once when a task is now predicted to miss its
	// deadline.
	Forecast func(ctx context.Context, instanceID int64) (*flows.Instance, *flowstats.Forecast, error)
	// BreachSpec is when the running tasks are re-predicted (default
	// every 15 minutes, "0 */15 * * * *").
	BreachSpec string
	Logger     *slog.Logger
	Metrics    Metrics
}

// Scheduler runs the jobs. Start/Stop run them on cron; RunDue runs what
// is due at a given time at once.
type Scheduler struct {
	cfg    Config
	log    *slog.Logger
	owner  string
	err    error // a bad spec, reported by Start and RunDue
	tick   cron.Schedule
	parser cron.Parser

	lockDown atomic.Bool // the lock store is failing (logged once)

	mu   sync.Mutex
	seen map[string]bool      // dedupe keys known to be taken, to skip work
	last map[string]time.Time // job -> last run, without State
	cron *cron.Cron
	stop context.CancelFunc
}

// New returns a scheduler. A bad spec or time zone is reported by Start
// and RunDue.
func New(cfg Config) *Scheduler {
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	cfg.TickSpec = cmp.Or(cfg.TickSpec, "*/30 * * * * *")
	cfg.DigestSpec = cmp.Or(cfg.DigestSpec, "0 9 * * *")
	cfg.ReportSpec = cmp.Or(cfg.ReportSpec, "0 9 1 * *")
	cfg.BreachSpec = cmp.Or(cfg.BreachSpec, "0 */15 * * * *")
	cfg.DefaultTZ = cmp.Or(cfg.DefaultTZ, "Asia/Shanghai")
	cfg.CatchUp = cmp.Or(cfg.CatchUp, time.Hour)
	cfg.LockTTL = cmp.Or(cfg.LockTTL, 5*time.Minute)
	s := &Scheduler{
		cfg:    cfg,
		log:    cmp.Or(cfg.Logger, slog.Default()).WithGroup("schedule"),
		owner:  randomID(),
		parser: cron.NewParser(cron.SecondOptional | cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor),
		seen:   map[string]bool{},
		last:   map[string]time.Time{},
	}
	var errs []error
	var err error
	if s.tick, err = s.parser.Parse(cfg.TickSpec); err != nil {
		errs = append(errs, fmt.Errorf("tick spec %q: %w", cfg.TickSpec, err))
	}
	if _, err := s.parser.Parse(cfg.DigestSpec); err != nil {
		errs = append(errs, fmt.Errorf("digest spec %q: %w", cfg.DigestSpec, err))
	}
	if _, err := s.parser.Parse(cfg.ReportSpec); err != nil {
		errs = append(errs, fmt.Errorf("report spec %q: %w", cfg.ReportSpec, err))
	}
	if _, err := s.parser.Parse(cfg.BreachSpec); err != nil {
		errs = append(errs, fmt.Errorf("breach spec %q: %w", cfg.BreachSpec, err))
	}
	if _, err := time.LoadLocation(cfg.DefaultTZ); err != nil {
		errs = append(errs, fmt.Errorf("default time zone %q: %w", cfg.DefaultTZ, err))
	}
	if cfg.Store == nil {
		errs = append(errs, errors.New("no store"))
	}
	if cfg.Deduper == nil {
		errs = append(errs, errors.New("no deduper"))
	}
	if len(errs) > 0 {
		s.err = fmt.Errorf("schedule: %w", errors.Join(errs...))
	}
	return s
}

func randomID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b) // never fails (crypto/rand panics on a broken system)
	return hex.EncodeToString(b)
}

// Start runs the jobs on cron until Stop or ctx ends: Tick on TickSpec,
// and once a minute the digests and reports that became due.
func (s *Scheduler) Start(ctx context.Context) error {
	if s.err != nil {
		return s.err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cron != nil {
		return errors.New("schedule: already started")
	}
	ctx, cancel := context.WithCancel(ctx)
	c := cron.New(cron.WithParser(s.parser), cron.WithLocation(time.UTC),
		cron.WithChain(cron.SkipIfStillRunning(cron.DiscardLogger)))
	c.Schedule(s.tick, cron.FuncJob(func() {
		s.logJobError(ctx, "tick", s.runTick(ctx, s.cfg.Clock()))
	}))
	if breach, err := s.parser.Parse(s.cfg.BreachSpec); err == nil {
		c.Schedule(breach, cron.FuncJob(func() {
			s.logJobError(ctx, "deadline check", s.runBreaches(ctx, s.cfg.Clock()))
		}))
	}
	every, _ := s.parser.Parse("0 * * * * *")
	c.Schedule(every, cron.FuncJob(func() {
		now := s.cfg.Clock()
		s.logJobError(ctx, "digests", s.runDigests(ctx, now))
		s.logJobError(ctx, "reports", s.runReports(ctx, now))
		s.logJobError(ctx, "owner reports", s.runOwnerReports(ctx, now))
	}))
	c.Start()
	s.cron, s.stop = c, cancel
	return nil
}

// Stop stops the cron and waits for running jobs to finish.
func (s *Scheduler) Stop() {
	s.mu.Lock()
	c, cancel := s.cron, s.stop
	s.cron, s.stop = nil, nil
	s.mu.Unlock()
	if c == nil {
		return
	}
	cancel()
	<-c.Stop().Done()
}

// RunDue runs everything due at now at once: Tick(now), the digests and
// the reports whose time lies within CatchUp before now and that were not
// sent yet, and the deadline check of the running tasks. The playground calls it after moving the clock.
func (s *Scheduler) RunDue(ctx context.Context, now time.Time) error {
	if s.err != nil {
		return s.err
	}
	return errors.Join(s.runTick(ctx, now), s.runDigests(ctx, now), s.runReports(ctx, now), s.runOwnerReports(ctx, now), s.runBreaches(ctx, now))
}

// locked runs fn if this replica gets job's lock; ran is false otherwise.
// While fn runs the lease is renewed every LockTTL/3; when a renewal fails
// or the lease was taken over, fn's context is cancelled (cause
// errLeaseLost) so that the job stops before another replica starts it.
func (s *Scheduler) locked(ctx context.Context, job string, fn func(ctx context.Context) error) (ran bool, err error) {
	if s.cfg.Locker == nil {
		return true, fn(ctx)
	}
	name := "flowbot:job:" + job
	ttl := s.cfg.LockTTL
	ok, err := s.cfg.Locker.TryLock(ctx, name, s.owner, ttl)
	s.lockHealth(ctx, err)
	if err != nil {
		return false, &lockError{job: job, err: err}
	}
	if !ok {
		s.log.DebugContext(ctx, "job runs on another replica", "job", job)
		return false, nil
	}
	jobCtx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	stop, renewed := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(renewed)
		s.renew(jobCtx, job, name, stop, cancel)
	}()
	err = fn(jobCtx)
	close(stop)
	<-renewed
	if cause := context.Cause(jobCtx); errors.Is(cause, errLeaseLost) {
		err = errors.Join(fmt.Errorf("job %s stopped: %w", job, cause), err)
	}
	if uerr := s.cfg.Locker.Unlock(context.WithoutCancel(ctx), name, s.owner); uerr != nil {
		s.log.WarnContext(ctx, "unlock job", "job", job, "err", uerr)
	}
	return true, err
}

// errLeaseLost is the cause of a job's context when its lease could not
// be renewed.
var errLeaseLost = errors.New("job lease lost")

// renew renews lock name every LockTTL/3 until stop is closed or ctx ends;
// when a renewal fails it cancels the job with errLeaseLost.
func (s *Scheduler) renew(ctx context.Context, job, name string, stop <-chan struct{}, cancel context.CancelCauseFunc) {
	ttl := s.cfg.LockTTL
	every := max(ttl/3, time.Millisecond)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-ctx.Done():
			return
		case <-t.C:
		}
		// A renewal slower than the rest of the lease is as good as lost.
		rctx, rcancel := context.WithTimeout(ctx, max(ttl-every, every))
		ok, err := s.cfg.Locker.TryLock(rctx, name, s.owner, ttl)
		rcancel()
		select {
		case <-stop: // the job ended meanwhile: a failure no longer matters
			return
		default:
		}
		s.lockHealth(ctx, err)
		if err == nil && ok {
			continue
		}
		if err == nil {
			err = errors.New("held by another replica")
		}
		s.log.WarnContext(ctx, "job lease lost, stopping the job", "job", job, "err", err)
		cancel(fmt.Errorf("%w: renew %s: %w", errLeaseLost, name, err))
		return
	}
}

// lockError is a failure of the lock store to answer TryLock.
type lockError struct {
	job string
	err error
}

func (e *lockError) Error() string { return fmt.Sprintf("lock job %s: %v", e.job, e.err) }
func (e *lockError) Unwrap() error { return e.err }

// lockHealth logs once at WARN when the lock store starts failing and
// once at INFO when it answers again; err is the result of a TryLock.
func (s *Scheduler) lockHealth(ctx context.Context, err error) {
	if err != nil && ctx.Err() != nil {
		return // cancelled, not a failing store
	}
	if err != nil {
		if s.lockDown.CompareAndSwap(false, true) {
			s.log.WarnContext(ctx, "lock store failing: scheduled jobs do not run on this replica until it answers again", "err", err)
		}
		return
	}
	if s.lockDown.CompareAndSwap(true, false) {
		s.log.InfoContext(ctx, "lock store answers again: scheduled jobs resume")
	}
}

// logJobError logs a failed cron run; a failing lock store was already
// logged by lockHealth.
func (s *Scheduler) logJobError(ctx context.Context, what string, err error) {
	var le *lockError
	if err == nil || ctx.Err() != nil || errors.As(err, &le) {
		return
	}
	s.log.ErrorContext(ctx, what, "err", err)
}

func (s *Scheduler) runTick(ctx context.Context, now time.Time) error {
	if s.cfg.Ticker == nil {
		return nil
	}
	_, err := s.locked(ctx, JobTick, func(ctx context.Context) error {
		start := time.Now()
		res, err := s.cfg.Ticker.Tick(ctx, now)
		if s.cfg.Metrics != nil {
			s.cfg.Metrics.TickDuration(time.Since(start))
		}
		if err != nil {
			return fmt.Errorf("tick at %s: %w", now.Format(time.RFC3339), err)
		}
		if res != (flows.TickResult{}) {
			s.log.InfoContext(ctx, "tick", "reminded", res.Reminded, "escalated", res.Escalated, "timed_out", res.TimedOut)
			s.kick()
		}
		return nil
	})
	return err
}

func (s *Scheduler) kick() {
	if s.cfg.Kick != nil {
		s.cfg.Kick()
	}
}

// zone returns the location of u (DefaultTZ when unset or unknown).
func (s *Scheduler) zone(u *flows.User) *time.Location {
	if u.TZ != "" {
		if loc, err := time.LoadLocation(u.TZ); err == nil {
			return loc
		}
		s.log.Warn("unknown time zone, using the default", "user", u.ID, "tz", u.TZ)
	}
	loc, err := time.LoadLocation(s.cfg.DefaultTZ)
	if err != nil {
		return time.UTC
	}
	return loc
}

// lastDue returns the latest time of spec in loc in (from, now]; ok is
// false when there is none.
func (s *Scheduler) lastDue(spec string, loc *time.Location, from, now time.Time) (time.Time, bool) {
	sched, err := s.parser.Parse(spec)
	if err != nil {
		return time.Time{}, false
	}
	if ss, ok := sched.(*cron.SpecSchedule); ok {
		ss.Location = loc
	}
	t := sched.Next(from.In(loc))
	if t.IsZero() || t.After(now) {
		return time.Time{}, false
	}
	for range 100000 {
		n := sched.Next(t)
		if n.IsZero() || n.After(now) {
			break
		}
		t = n
	}
	return t, true
}

// lastRun returns when job last ran to completion, or now-CatchUp when
// that is unknown or not before now (the clock moved back).
func (s *Scheduler) lastRun(ctx context.Context, job string) time.Time {
	var last time.Time
	if s.cfg.State != nil {
		v, ok, err := s.cfg.State.Get(ctx, lastRunKey(job))
		if err != nil {
			s.log.WarnContext(ctx, "read last run", "job", job, "err", err)
		} else if ok {
			_ = last.UnmarshalText(v) // a bad value reads as unknown
		}
	} else {
		s.mu.Lock()
		last = s.last[job]
		s.mu.Unlock()
	}
	return last
}

// setLastRun records that job ran up to now.
func (s *Scheduler) setLastRun(ctx context.Context, job string, now time.Time) error {
	if s.cfg.State == nil {
		s.mu.Lock()
		s.last[job] = now
		s.mu.Unlock()
		return nil
	}
	v, _ := now.UTC().MarshalText()
	if err := s.cfg.State.Set(ctx, lastRunKey(job), v, 400*24*time.Hour); err != nil {
		return fmt.Errorf("record last run of %s: %w", job, err)
	}
	return nil
}

func lastRunKey(job string) string { return "flowbot:job:" + job + ":last" }

// claim reports whether key is not taken yet and takes it.
func (s *Scheduler) claim(ctx context.Context, key string) (bool, error) {
	first, err := s.cfg.Deduper.FirstSeen(ctx, key, 48*time.Hour)
	if err != nil {
		return false, fmt.Errorf("check %s: %w", key, err)
	}
	s.markSeen(key)
	return first, nil
}

func (s *Scheduler) wasSeen(key string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.seen[key]
}

func (s *Scheduler) markSeen(key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.seen) > 100000 {
		clear(s.seen) // only a shortcut; the Deduper is the truth
	}
	s.seen[key] = true
}

// forget releases key after a failed send, when the Deduper can.
func (s *Scheduler) forget(ctx context.Context, key string) {
	s.mu.Lock()
	delete(s.seen, key)
	s.mu.Unlock()
	if f, ok := s.cfg.Deduper.(bots.DedupeForgetter); ok {
		if err := f.Forget(context.WithoutCancel(ctx), key); err != nil {
			s.log.WarnContext(ctx, "forget dedupe key", "key", key, "err", err)
		}
	}
}

// enqueue writes a text message for user to the outbox, once per key: the
// key is numbered in the same transaction (Tx.NextNumber "sent:<key>"), so
// the database remembers what was sent even when the Deduper (Redis)
// lost its keys. sent is false when key was sent before.
func (s *Scheduler) enqueue(ctx context.Context, key, to string, text flowdef.Text, now time.Time, extra ...map[string]any) (sent bool, err error) {
	data, err := textData(text, extra...)
	if err != nil {
		return false, err
	}
	err = s.cfg.Store.Update(ctx, func(tx flows.Tx) error {
		n, err := tx.NextNumber("sent:" + key)
		if err != nil {
			return fmt.Errorf("check %s was sent: %w", key, err)
		}
		if n > 1 {
			return nil
		}
		sent = true
		return tx.Enqueue(&flows.OutboxMessage{Kind: flows.MsgText, Recipient: to, Data: data,
			Status: flows.OutboxPending, NextAt: now, CreatedAt: now})
	})
	if err != nil {
		return false, fmt.Errorf("enqueue message to %s: %w", to, err)
	}
	return sent, nil
}
