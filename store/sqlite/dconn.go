package sqlite

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strconv"
	"time"
)

// dconn is the driver's own connection (modernc.org/sqlite) used without
// database/sql in between: the writer goroutine runs every statement of
// its batches on one, obtained through sql.Conn.Raw and used only inside
// that call. Per statement this saves database/sql's locks, its argument
// conversion (reflection per argument), its Result and Rows wrappers and
// the reflective Scan. Statements are prepared once, kept by their text.
//
// A dconn is not safe for concurrent use; its owner is the only user. A
// kept statement is one SQLite statement: the rows of a query must be
// closed before the same query text runs again on the connection (every
// caller here reads its rows to the end or closes them first).
type dconn struct {
	c     driver.ConnPrepareContext
	stmts map[string]driver.Stmt
	nv    []driver.NamedValue // reused for each statement's arguments
}

func newDConn(c any) (*dconn, error) {
	pc, ok := c.(driver.ConnPrepareContext)
	if !ok {
		return nil, fmt.Errorf("sqlite driver connection %T cannot prepare statements with a context", c)
	}
	return &dconn{c: pc, stmts: make(map[string]driver.Stmt)}, nil
}

// stmt returns q prepared on c. once is true when q was not kept (the
// cache is full) and the caller must close it after use.
func (c *dconn) stmt(ctx context.Context, q string) (s driver.Stmt, once bool, err error) {
	if s, ok := c.stmts[q]; ok {
		return s, false, nil
	}
	if s, err = c.c.PrepareContext(ctx, q); err != nil {
		return nil, false, err
	}
	if len(c.stmts) >= maxCached {
		return s, true, nil
	}
	c.stmts[q] = s
	return s, false, nil
}

// args converts args as database/sql would, into c.nv.
func (c *dconn) args(args []any) ([]driver.NamedValue, error) {
	nv := c.nv[:0]
	for i, a := range args {
		var v driver.Value
		switch x := a.(type) {
		case nil, int64, float64, string, []byte, bool, time.Time:
			v = x
		case int:
			v = int64(x)
		case int32:
			v = int64(x)
		default:
			var err error
			if v, err = driver.DefaultParameterConverter.ConvertValue(a); err != nil {
				return nil, fmt.Errorf("argument %d: %w", i+1, err)
			}
		}
		nv = append(nv, driver.NamedValue{Ordinal: i + 1, Value: v})
	}
	c.nv = nv
	return nv, nil
}

func (c *dconn) exec(ctx context.Context, q string, args ...any) (sql.Result, error) {
	s, once, err := c.stmt(ctx, q)
	if err != nil {
		return nil, err
	}
	if once {
		defer func() { _ = s.Close() }()
	}
	nv, err := c.args(args)
	if err != nil {
		return nil, err
	}
	res, err := s.(driver.StmtExecContext).ExecContext(ctx, nv)
	clear(c.nv) // keep no reference to the caller's values
	if err != nil {
		return nil, err
	}
	return res, nil
}

func (c *dconn) query(ctx context.Context, q string, args ...any) (rowsIter, error) {
	s, once, err := c.stmt(ctx, q)
	if err != nil {
		return nil, err
	}
	nv, err := c.args(args)
	if err != nil {
		if once {
			_ = s.Close()
		}
		return nil, err
	}
	r, err := s.(driver.StmtQueryContext).QueryContext(ctx, nv)
	clear(c.nv)
	if err != nil {
		if once {
			_ = s.Close()
		}
		return nil, err
	}
	dr := &drows{r: r, vals: make([]driver.Value, len(r.Columns()))}
	if once {
		dr.stmt = s
	}
	return dr, nil
}

func (c *dconn) queryRow(ctx context.Context, q string, args ...any) scanner {
	r, err := c.query(ctx, q, args...)
	return drow{r: r, err: err}
}

func (c *dconn) close() error {
	var errs []error
	for _, s := range c.stmts {
		errs = append(errs, s.Close())
	}
	c.stmts = nil
	return errors.Join(errs...)
}

// rowsIter is a *sql.Rows or a *drows.
type rowsIter interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
	Close() error
}

// drows reads a driver.Rows the way *sql.Rows does, for the destinations
// this package scans into.
type drows struct {
	r      driver.Rows
	stmt   driver.Stmt // closed with the rows when not kept in the cache
	vals   []driver.Value
	err    error
	closed bool
}

func (r *drows) Next() bool {
	if r.closed {
		return false
	}
	if err := r.r.Next(r.vals); err != nil {
		if err != io.EOF {
			r.err = err
		}
		_ = r.Close()
		return false
	}
	return true
}

func (r *drows) Err() error { return r.err }

func (r *drows) Close() error {
	if r.closed {
		return nil
	}
	r.closed = true
	err := r.r.Close()
	if r.stmt != nil {
		err = errors.Join(err, r.stmt.Close())
	}
	return err
}

func (r *drows) Scan(dest ...any) error {
	if r.closed {
		return errors.New("sql: Rows are closed")
	}
	if len(dest) != len(r.vals) {
		return fmt.Errorf("sql: expected %d destination arguments in Scan, not %d", len(r.vals), len(dest))
	}
	for i, d := range dest {
		if err := assign(d, r.vals[i]); err != nil {
			return fmt.Errorf("sql: Scan error on column index %d: %w", i, err)
		}
	}
	return nil
}

// drow is one row of a query, like *sql.Row: sql.ErrNoRows when there is
// none.
type drow struct {
	r   rowsIter
	err error
}

func (r drow) Scan(dest ...any) error {
	if r.err != nil {
		return r.err
	}
	defer func() { _ = r.r.Close() }()
	if !r.r.Next() {
		if err := r.r.Err(); err != nil {
			return err
		}
		return sql.ErrNoRows
	}
	if err := r.r.Scan(dest...); err != nil {
		return err
	}
	return r.r.Close()
}

// assign stores the driver value src (int64, float64, string, []byte,
// time.Time or nil; byte slices are the driver's fresh copies) in dest,
// as database/sql's Scan does for the destinations used in this package.
func assign(dest any, src driver.Value) error {
	switch d := dest.(type) {
	case sql.Scanner:
		return d.Scan(src)
	case *any:
		*d = src
		return nil
	case *int64:
		if x, ok := src.(int64); ok {
			*d = x
			return nil
		}
	case *int:
		if x, ok := src.(int64); ok {
			*d = int(x)
			return nil
		}
	case *string:
		switch x := src.(type) {
		case string:
			*d = x
			return nil
		case []byte:
			*d = string(x)
			return nil
		case int64:
			*d = strconv.FormatInt(x, 10)
			return nil
		}
	case *[]byte:
		switch x := src.(type) {
		case nil:
			*d = nil
			return nil
		case []byte:
			*d = x
			return nil
		case string:
			*d = []byte(x)
			return nil
		}
	case *bool:
		b, err := driver.Bool.ConvertValue(src)
		if err != nil {
			return err
		}
		*d = b.(bool)
		return nil
	case *float64:
		switch x := src.(type) {
		case float64:
			*d = x
			return nil
		case int64:
			*d = float64(x)
			return nil
		}
	}
	return assignReflect(dest, src)
}

// assignReflect handles the named types (a flows.Status is a string).
func assignReflect(dest any, src driver.Value) error {
	dv := reflect.ValueOf(dest)
	if dv.Kind() != reflect.Pointer || dv.IsNil() {
		return fmt.Errorf("destination not a pointer: %T", dest)
	}
	e := dv.Elem()
	switch e.Kind() {
	case reflect.String:
		switch x := src.(type) {
		case string:
			e.SetString(x)
			return nil
		case []byte:
			e.SetString(string(x))
			return nil
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		if x, ok := src.(int64); ok && !e.OverflowInt(x) {
			e.SetInt(x)
			return nil
		}
	case reflect.Bool:
		if b, err := driver.Bool.ConvertValue(src); err == nil {
			e.SetBool(b.(bool))
			return nil
		}
	case reflect.Slice:
		if e.Type().Elem().Kind() == reflect.Uint8 {
			switch x := src.(type) {
			case nil:
				e.SetBytes(nil)
				return nil
			case []byte:
				e.SetBytes(x)
				return nil
			case string:
				e.SetBytes([]byte(x))
				return nil
			}
		}
	}
	return fmt.Errorf("converting %T to %T is unsupported", src, dest)
}
