package sqlite

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"embed"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	msqlite "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/flowbot/flowbot/bots"
	"github.com/flowbot/flowbot/flows"
	"github.com/flowbot/flowbot/store/internal/dircache"
	"github.com/flowbot/flowbot/store/internal/migrate"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

var (
	_ flows.Store     = (*DB)(nil)
	_ bots.StateStore = (*stateStore)(nil)
	_ bots.Deduper    = (*deduper)(nil)
	_ bots.Locker     = (*locker)(nil)
	_ flows.Tx        = (*tx)(nil)
)

// DB is a flowbot database in one SQLite file. It is safe for concurrent use.
type DB struct {
	path   string
	log    *slog.Logger
	writer *sql.DB    // one connection: all writes queue here
	wdsn   string     // the writer's data source name
	wc     *sql.Conn  // that connection, held by the writer goroutine (writer.go)
	reader *sql.DB    // read-only pool
	cache  *stmtCache // statements prepared on the reader pool, for reads outside transactions
	rmu    sync.Mutex
	rconns map[any]*dconn  // the reader pool's driver connections and their statements (read transactions)
	dir    *dircache.Cache // users by id, see dircache.go
	refs   *refCache       // message refs by request, see refcache.go

	wq     chan *writeReq // writes waiting for the writer goroutine
	wstop  chan struct{}  // closed by Close: the writer stops taking writes
	wdone  chan struct{}  // closed when the writer goroutine has returned
	cpdone chan struct{}  // closed when the checkpointer has returned

	batches    atomic.Int64 // batches run by the writer (WriteStats)
	batchedOps atomic.Int64 // writes run in them

	purgeTick atomic.Uint64            // counts kv writes, to purge expired rows now and then
	taker     atomic.Pointer[takerRef] // takes messages as they are written (handoff.go)
	foreign   atomic.Pointer[func()]   // told of another process's writes (OnForeignWrite)
	// dataVersion is the writer connection's last PRAGMA data_version
	// (0: not read yet); the writer goroutine alone uses it.
	dataVersion int64
	closeOnce   sync.Once
	closeErr    error
}

// Option changes how Open sets up the database.
type Option func(*options)

type options struct {
	log         *slog.Logger
	readers     int
	busyTimeout time.Duration
	cacheKiB    int
}

// WithLogger sets the logger (default slog.Default()).
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.log = l } }

// WithReaders sets the size of the read connection pool (default
// max(8, 2*GOMAXPROCS)).
func WithReaders(n int) Option { return func(o *options) { o.readers = n } }

// WithBusyTimeout sets how long a connection waits for a lock held by
// another process before failing (default 5s).
func WithBusyTimeout(d time.Duration) Option { return func(o *options) { o.busyTimeout = d } }

// WithCacheSize sets SQLite's page cache per connection in KiB (default 16384).
func WithCacheSize(kib int) Option { return func(o *options) { o.cacheKiB = kib } }

// Open opens (creating if needed) the database file at path and runs the
// migrations not yet applied.
func Open(ctx context.Context, path string, opts ...Option) (*DB, error) {
	o := options{
		log:         slog.Default(),
		readers:     max(8, 2*runtime.GOMAXPROCS(0)),
		busyTimeout: 5 * time.Second,
		cacheKiB:    16384,
	}
	for _, f := range opts {
		f(&o)
	}
	switch {
	case path == "":
		return nil, errors.New("open sqlite: empty path")
	case path == ":memory:" || strings.Contains(path, "mode=memory"):
		return nil, errors.New("open sqlite: in-memory databases are not supported (reader and writer pools need one file); use a file in a temp dir")
	case strings.ContainsAny(path, "?#"):
		return nil, fmt.Errorf("open sqlite %q: path must not contain '?' or '#'", path)
	case o.readers < 1:
		return nil, fmt.Errorf("open sqlite: readers must be >= 1, got %d", o.readers)
	case o.busyTimeout < 0:
		return nil, fmt.Errorf("open sqlite: negative busy timeout %s", o.busyTimeout)
	}
	if o.log == nil {
		o.log = slog.Default()
	}
	db := &DB{path: path, log: o.log.With("store", "sqlite"), dir: dircache.New(), refs: newRefCache(refInstances),
		wq: make(chan *writeReq), wstop: make(chan struct{}), wdone: make(chan struct{}), cpdone: make(chan struct{})}

	common := "_pragma=busy_timeout(" + strconv.FormatInt(o.busyTimeout.Milliseconds(), 10) + ")" +
		"&_pragma=synchronous(NORMAL)&_pragma=foreign_keys(ON)&_pragma=temp_store(MEMORY)" +
		"&_pragma=cache_size(-" + strconv.Itoa(max(o.cacheKiB, 64)) + ")"
	db.wdsn = "file:" + path + "?" + common + "&_pragma=journal_mode(WAL)&_pragma=wal_autocheckpoint(0)&_txlock=immediate"
	w, err := sql.Open("sqlite", db.wdsn)
	if err != nil {
		return nil, fmt.Errorf("open sqlite writer %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)
	db.writer = w
	if err := w.PingContext(ctx); err != nil {
		_ = w.Close()
		return nil, fmt.Errorf("open sqlite writer %s: %w", path, err)
	}
	if err := db.migrate(ctx, w); err != nil {
		_ = w.Close()
		return nil, err
	}
	// The writer goroutine holds the one connection for the DB's life: its
	// statements are prepared there once and run without a pool in between.
	wconn, err := w.Conn(ctx)
	if err != nil {
		_ = w.Close()
		return nil, fmt.Errorf("open sqlite writer %s: %w", path, err)
	}
	db.wc = wconn

	r, err := sql.Open("sqlite", "file:"+path+"?"+common+"&_pragma=query_only(1)")
	if err != nil {
		_ = w.Close()
		return nil, fmt.Errorf("open sqlite readers %s: %w", path, err)
	}
	r.SetMaxOpenConns(o.readers)
	r.SetMaxIdleConns(o.readers)
	r.SetConnMaxLifetime(0)
	r.SetConnMaxIdleTime(0)
	db.reader = r
	db.cache = &stmtCache{db: r}

	cp, err := sql.Open("sqlite", "file:"+path+"?"+common)
	if err != nil {
		close(db.wdone)
		close(db.cpdone)
		_ = db.Close()
		return nil, fmt.Errorf("open sqlite checkpointer %s: %w", path, err)
	}
	cp.SetMaxOpenConns(1)
	go db.writeLoop()
	go db.checkpointLoop(cp)
	return db, nil
}

// Close closes both connection pools. Closing twice is harmless.
func (db *DB) Close() error {
	db.closeOnce.Do(func() { db.closeErr = db.close() })
	return db.closeErr
}

func (db *DB) close() error {
	close(db.wstop)
	<-db.wdone // the batch in progress commits first
	<-db.cpdone
	var errs []error
	if db.cache != nil {
		errs = append(errs, db.cache.close())
	}
	if db.wc != nil {
		errs = append(errs, db.wc.Close())
	}
	// The reads are over (Close is called after the last use): the pool's
	// connections are idle and their statements can be finalized before
	// the connections close.
	db.rmu.Lock()
	for dc, c := range db.rconns {
		if !pooled(dc) {
			continue // closed already: its statements cannot be finalized
		}
		errs = append(errs, c.close())
	}
	db.rconns = nil
	db.rmu.Unlock()
	if db.reader != nil {
		errs = append(errs, db.reader.Close())
	}
	if db.writer != nil {
		errs = append(errs, db.writer.Close())
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("close sqlite %s: %w", db.path, err)
	}
	return nil
}

// Migrate applies the embedded migrations not yet recorded in
// schema_migrations, each in its own transaction. It is idempotent and
// safe against a concurrent Migrate in another process.
func (db *DB) Migrate(ctx context.Context) error {
	// The writer connection belongs to the writer goroutine: migrate on a
	// connection of its own, as another process would.
	m, err := sql.Open("sqlite", db.wdsn)
	if err != nil {
		return fmt.Errorf("migrate %s: %w", db.path, err)
	}
	defer func() { _ = m.Close() }()
	m.SetMaxOpenConns(1)
	return db.migrate(ctx, m)
}

func (db *DB) migrate(ctx context.Context, w *sql.DB) error {
	ms, err := migrate.Load(migrationFS, "migrations")
	if err != nil {
		return err
	}
	if _, err := w.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    INTEGER PRIMARY KEY,
		name       TEXT NOT NULL,
		applied_at INTEGER NOT NULL)`); err != nil {
		return fmt.Errorf("create schema_migrations: %w", err)
	}
	for _, m := range ms {
		applied, err := db.applyMigration(ctx, w, m)
		if err != nil {
			return fmt.Errorf("migrate %s: %w", m.Name, err)
		}
		if applied {
			db.log.InfoContext(ctx, "applied migration", "name", m.Name)
		}
	}
	return nil
}

func (db *DB) applyMigration(ctx context.Context, w *sql.DB, m migrate.Migration) (applied bool, err error) {
	t, err := w.BeginTx(ctx, nil)
	if err != nil {
		return false, fmt.Errorf("begin: %w", err)
	}
	defer func() {
		if err != nil {
			_ = t.Rollback()
		}
	}()
	var n int
	if err := t.QueryRowContext(ctx, `SELECT count(*) FROM schema_migrations WHERE version = ?`, m.Version).Scan(&n); err != nil {
		return false, fmt.Errorf("check applied: %w", err)
	}
	if n > 0 {
		return false, t.Rollback()
	}
	if _, err := t.ExecContext(ctx, m.SQL); err != nil {
		return false, fmt.Errorf("run: %w", err)
	}
	if _, err := t.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`,
		m.Version, m.Name, time.Now().UnixMilli()); err != nil {
		return false, fmt.Errorf("record: %w", err)
	}
	if err := t.Commit(); err != nil {
		return false, fmt.Errorf("commit: %w", err)
	}
	return true, nil
}

// Update runs fn in one write transaction: a savepoint of a group-committed
// batch on the single writer connection (see writer.go). It returns after
// the batch committed; fn's error is returned unchanged after its writes
// were rolled back.
func (db *DB) Update(ctx context.Context, fn func(tx flows.Tx) error) error {
	return db.write(ctx, func(t *tx) error { return fn(t) })
}

// View runs fn in a read-only transaction on the reader pool.
func (db *DB) View(ctx context.Context, fn func(tx flows.Tx) error) error {
	return db.read(ctx, func(t *tx) error { return fn(t) })
}

func (db *DB) read(ctx context.Context, fn func(t *tx) error) error {
	conn, err := db.reader.Conn(ctx)
	if err != nil {
		return fmt.Errorf("begin read transaction: %w", mapErr(err))
	}
	defer func() { _ = conn.Close() }() // back to the pool
	return conn.Raw(func(dc any) (err error) {
		c, err := db.readerConn(dc)
		if err != nil {
			return fmt.Errorf("begin read transaction: %w", err)
		}
		returned := false // false while fn runs: it panicked if the defer sees it
		defer func() {
			// Always roll back: a BEGIN whose context ended as it ran
			// can have begun the transaction and still report the error.
			_, _ = c.exec(context.Background(), `ROLLBACK`)
			if !returned || !pooled(dc) || errors.Is(err, driver.ErrBadConn) {
				// database/sql closes a connection whose Raw call
				// panicked, or that is no longer valid (interrupted):
				// finalize its statements while it is still open.
				db.rmu.Lock()
				delete(db.rconns, dc)
				db.rmu.Unlock()
				_ = c.close()
			}
		}()
		err = func() error {
			if _, err := c.exec(ctx, `BEGIN`); err != nil {
				return fmt.Errorf("begin read transaction: %w", mapErr(err))
			}
			return fn(&tx{db: db, ctx: ctx, c: c})
		}()
		returned = true
		return err
	})
}

// pooled reports whether database/sql will keep the driver connection dc
// in its pool when the current Raw call returns.
func pooled(dc any) bool {
	v, ok := dc.(driver.Validator)
	return !ok || v.IsValid()
}

// readerConn returns the statement cache of the reader pool's driver
// connection dc, made the first time dc is seen. The caller is inside
// sql.Conn.Raw for dc: it alone uses dc and the cache until it returns.
func (db *DB) readerConn(dc any) (*dconn, error) {
	db.rmu.Lock()
	defer db.rmu.Unlock()
	if c, ok := db.rconns[dc]; ok {
		return c, nil
	}
	c, err := newDConn(dc)
	if err != nil {
		return nil, err
	}
	if db.rconns == nil {
		db.rconns = make(map[any]*dconn)
	}
	db.rconns[dc] = c
	return c, nil
}

// mapErr turns SQLite's unique/primary-key violations into flows.ErrConflict
// and sql.ErrNoRows into flows.ErrNotFound, keeping the original text.
func mapErr(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, sql.ErrNoRows) {
		return flows.ErrNotFound
	}
	var se *msqlite.Error
	if errors.As(err, &se) {
		switch se.Code() {
		case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
			return fmt.Errorf("%w: %s", flows.ErrConflict, se.Error())
		}
	}
	return err
}
