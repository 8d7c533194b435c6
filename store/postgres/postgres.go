package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/flowbot/flowbot/flows"
	"github.com/flowbot/flowbot/store/internal/dircache"
	"github.com/flowbot/flowbot/store/internal/migrate"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

var (
	_ flows.Store = (*DB)(nil)
	_ flows.Tx    = (*tx)(nil)
)

// DefaultConnectTimeout bounds how long a connection attempt may take, so
// that calls fail fast while the database is down.
const DefaultConnectTimeout = 2 * time.Second

// DB is a flowbot database in PostgreSQL. It is safe for concurrent use.
type DB struct {
	pool *pgxpool.Pool
	log  *slog.Logger
	// owner tags outbox claims (WithOwner; zero: untagged).
	owner Owner

	// Group commit (writer.go).
	lanes     int
	wq        chan *writeReq
	wstop     chan struct{}
	wg        sync.WaitGroup
	closeOnce sync.Once
	// seqs names the identity sequences the lanes take ids from ahead
	// (deferred.go).
	seqs *[nSeqs]string
	// dir caches users by id (dircache.go).
	dir *dircache.Cache
	// plainViews: the server's default isolation is READ COMMITTED, so a
	// View runs its statements on a pool connection without BEGIN and
	// COMMIT (View).
	plainViews bool
}

// Open connects to the database at url (a postgres:// URL or a keyword/value
// DSN) and runs the migrations not yet applied.
func Open(ctx context.Context, url string) (*DB, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("open postgres: parse url: %w", err)
	}
	return OpenConfig(ctx, cfg, nil)
}

// OpenConfig is Open with a parsed pool configuration (to set search_path,
// pool sizes...), a logger (nil: slog.Default()) and options. A zero
// ConnectTimeout becomes DefaultConnectTimeout. Updates are group-committed
// by DefaultWriteLanes lanes unless WithWriteLanes says otherwise.
func OpenConfig(ctx context.Context, cfg *pgxpool.Config, log *slog.Logger, opts ...Option) (*DB, error) {
	if cfg == nil {
		return nil, errors.New("open postgres: nil config")
	}
	cfg = cfg.Copy()
	if cfg.ConnConfig.ConnectTimeout <= 0 {
		cfg.ConnConfig.ConnectTimeout = DefaultConnectTimeout
	}
	if log == nil {
		log = slog.Default()
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open postgres: %w", err)
	}
	db := &DB{pool: pool, log: log.With("store", "postgres"), lanes: DefaultWriteLanes, dir: dircache.New()}
	for _, o := range opts {
		o(db)
	}
	if err := db.Migrate(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	var iso string
	if err := pool.QueryRow(ctx, `SELECT current_setting('transaction_isolation')`).Scan(&iso); err != nil {
		pool.Close()
		return nil, fmt.Errorf("open postgres: read the default isolation: %w", err)
	}
	db.plainViews = iso == "read committed"
	if db.lanes > 0 {
		if err := db.resolveSeqs(ctx); err != nil {
			pool.Close()
			return nil, err
		}
		db.startLanes()
	}
	return db, nil
}

// Close stops the writer lanes (after the batches running now) and closes
// the pool. Closing twice is harmless.
func (db *DB) Close() error {
	db.closeLanes()
	db.pool.Close()
	return nil
}

// Ping checks that the database answers, for readiness probes.
func (db *DB) Ping(ctx context.Context) error {
	if err := db.pool.Ping(ctx); err != nil {
		return fmt.Errorf("ping postgres: %w", err)
	}
	return nil
}

// Migrate applies the embedded migrations not yet recorded in
// schema_migrations, each in its own transaction, while holding an
// advisory lock for the current schema: replicas migrating at once wait for
// each other and apply each migration once. It is idempotent.
func (db *DB) Migrate(ctx context.Context) error {
	ms, err := migrate.Load(migrationFS, "migrations")
	if err != nil {
		return err
	}
	conn, err := db.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("migrate: acquire connection: %w", err)
	}
	defer conn.Release()
	const lockKey = `hashtextextended('flowbot migrate ' || current_schema(), 0)`
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock(`+lockKey+`)`); err != nil {
		return fmt.Errorf("migrate: take advisory lock: %w", err)
	}
	defer func() {
		// Unlock even if ctx is done; a lost connection drops the lock anyway.
		uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if _, err := conn.Exec(uctx, `SELECT pg_advisory_unlock(`+lockKey+`)`); err != nil {
			db.log.WarnContext(ctx, "release migration lock", "err", err)
			_ = conn.Conn().Close(uctx)
		}
	}()
	if _, err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    integer PRIMARY KEY,
		name       text NOT NULL,
		applied_at timestamptz NOT NULL DEFAULT now())`); err != nil {
		return fmt.Errorf("migrate: create schema_migrations: %w", err)
	}
	for _, m := range ms {
		applied, err := applyMigration(ctx, conn.Conn(), m)
		if err != nil {
			return fmt.Errorf("migrate %s: %w", m.Name, err)
		}
		if applied {
			db.log.InfoContext(ctx, "applied migration", "name", m.Name)
		}
	}
	return nil
}

func applyMigration(ctx context.Context, conn *pgx.Conn, m migrate.Migration) (bool, error) {
	applied := false
	err := pgx.BeginFunc(ctx, conn, func(t pgx.Tx) error {
		var n int
		if err := t.QueryRow(ctx, `SELECT count(*) FROM schema_migrations WHERE version = $1`, m.Version).Scan(&n); err != nil {
			return fmt.Errorf("check applied: %w", err)
		}
		if n > 0 {
			return nil
		}
		if _, err := t.Exec(ctx, m.SQL); err != nil {
			return fmt.Errorf("run: %w", err)
		}
		if _, err := t.Exec(ctx, `INSERT INTO schema_migrations (version, name) VALUES ($1, $2)`, m.Version, m.Name); err != nil {
			return fmt.Errorf("record: %w", err)
		}
		applied = true
		return nil
	})
	return applied, err
}

// Update runs fn in one read-write transaction (READ COMMITTED), shared
// with other Updates waiting at the same time, each in its own savepoint
// (writer.go). fn's error is returned unchanged after rollback.
func (db *DB) Update(ctx context.Context, fn func(tx flows.Tx) error) error {
	if db.lanes > 0 {
		return db.write(ctx, func(t *tx) error { return fn(t) })
	}
	return db.inTx(ctx, true, func(t *tx) error { return fn(t) })
}

// View runs fn's reads. Their isolation is READ COMMITTED's, the server's
// default: each statement sees what was committed when it started. When
// that is the default, the statements run on one pool connection without
// BEGIN READ ONLY and COMMIT, which gives them the same snapshots for two
// round trips less (the write methods of the Tx refuse anyway);
// otherwise fn runs in a read-only transaction of the default isolation.
func (db *DB) View(ctx context.Context, fn func(tx flows.Tx) error) error {
	if !db.plainViews {
		return db.inTx(ctx, false, func(t *tx) error { return fn(t) })
	}
	c, err := db.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("begin read transaction: acquire connection: %w", mapErr(err))
	}
	defer c.Release()
	return fn(&tx{ctx: ctx, tx: c, dir: db.dir})
}

// inTx runs fn in a transaction; fn's error comes back unchanged, commit
// errors are mapped (serialization failure: flows.ErrConflict).
func (db *DB) inTx(ctx context.Context, write bool, fn func(t *tx) error) (err error) {
	opts := pgx.TxOptions{AccessMode: pgx.ReadWrite}
	what := "write"
	if !write {
		opts.AccessMode, what = pgx.ReadOnly, "read"
	}
	pt, err := db.pool.BeginTx(ctx, opts)
	if err != nil {
		return fmt.Errorf("begin %s transaction: %w", what, mapErr(err))
	}
	done := false
	defer func() {
		if !done { // fn panicked
			_ = pt.Rollback(context.WithoutCancel(ctx))
		}
	}()
	if err := fn(&tx{ctx: ctx, tx: pt, write: write, dir: db.dir}); err != nil {
		done = true
		_ = pt.Rollback(context.WithoutCancel(ctx))
		return err
	}
	done = true
	// Once fn's work is done, the COMMIT is awaited whatever ctx does
	// (bounded by commitTimeout): a commit cut off by the caller's deadline
	// may have happened on the server, and an error then would make the
	// caller (an event handler) do it again: a platform's redelivery
	// written twice. As with the SQLite writer, the answer is the outcome.
	// Only a connection lost during COMMIT leaves it unknown.
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), commitTimeout)
	defer cancel()
	if err := pt.Commit(cctx); err != nil {
		return fmt.Errorf("commit: %w", mapErr(err))
	}
	return nil
}

// commitTimeout bounds the wait for a COMMIT's answer once it was sent.
const commitTimeout = 5 * time.Second

// mapErr turns "no rows" into flows.ErrNotFound and unique violations,
// serialization failures and deadlocks into flows.ErrConflict, keeping the
// original error in the chain.
func mapErr(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return flows.ErrNotFound
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case "23505", // unique_violation
			"40001", // serialization_failure
			"40P01": // deadlock_detected
			return fmt.Errorf("%w: %w", flows.ErrConflict, err)
		}
	}
	return err
}
