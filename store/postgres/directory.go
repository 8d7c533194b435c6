package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/flowbot/flowbot/flows"
)

// ReplaceDirectory swaps the whole directory (users, their roles and
// platform ids, departments) in one transaction. Bad input (a nil entry, an
// empty id) changes nothing; a duplicate user, department or platform id is
// flows.ErrConflict and changes nothing.
func (db *DB) ReplaceDirectory(ctx context.Context, users []*flows.User, depts []*flows.Department) error {
	for i, u := range users {
		if u == nil || u.ID == "" {
			return fmt.Errorf("replace directory: user #%d has no id", i)
		}
		for p, pid := range u.Platforms {
			if p == "" || pid == "" {
				return fmt.Errorf("replace directory: user %s: empty platform key or id (%q: %q)", u.ID, p, pid)
			}
		}
	}
	for i, d := range depts {
		if d == nil || d.ID == "" {
			return fmt.Errorf("replace directory: department #%d has no id", i)
		}
	}
	err := db.inTx(ctx, true, func(t *tx) error {
		// Writers of the directory queue up instead of interleaving.
		if _, err := t.tx.Exec(ctx, `LOCK TABLE users, user_roles, user_platforms, departments IN EXCLUSIVE MODE`); err != nil {
			return mapErr(err)
		}
		b := &pgx.Batch{}
		for _, q := range []string{`DELETE FROM user_platforms`, `DELETE FROM user_roles`, `DELETE FROM users`, `DELETE FROM departments`} {
			b.Queue(q)
		}
		for _, u := range users {
			b.Queue(`INSERT INTO users (id, name, email, email_key, dept, manager, locale, tz, mobile, departed) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
				u.ID, u.Name, u.Email, emailKey(u.Email), u.Dept, u.Manager, u.Locale, u.TZ, u.Mobile, u.Departed)
			for i, r := range u.Roles {
				b.Queue(`INSERT INTO user_roles (user_id, role, pos) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`, u.ID, r, i)
			}
			for p, pid := range u.Platforms {
				b.Queue(`INSERT INTO user_platforms (user_id, platform, platform_id) VALUES ($1, $2, $3)`, u.ID, p, pid)
			}
		}
		for _, d := range depts {
			b.Queue(`INSERT INTO departments (id, name, name_en, head, parent) VALUES ($1, $2, $3, $4, $5)`,
				d.ID, d.Name, d.NameEN, d.Head, d.Parent)
		}
		b.Queue(qBumpStamp, dirStampKey) // other replicas' caches notice it
		return mapErr(t.tx.SendBatch(ctx, b).Close())
	})
	db.dir.Invalidate()
	if err != nil {
		return fmt.Errorf("replace directory: %w", err)
	}
	return nil
}

func emailKey(email string) string { return strings.ToLower(strings.TrimSpace(email)) }

// userSelect selects a user with roles (by pos) and platforms as arrays;
// the arrays are NULL when the user has none.
const userSelect = `SELECT u.id, u.name, u.email, u.dept, u.manager, u.locale, u.tz, u.mobile, u.departed,
	(SELECT array_agg(r.role ORDER BY r.pos) FROM user_roles r WHERE r.user_id = u.id),
	(SELECT array_agg(p.platform ORDER BY p.platform) FROM user_platforms p WHERE p.user_id = u.id),
	(SELECT array_agg(p.platform_id ORDER BY p.platform) FROM user_platforms p WHERE p.user_id = u.id)
	FROM users u`

func scanUser(s pgx.Row) (*flows.User, error) {
	u := &flows.User{}
	var plats, pids []string
	if err := s.Scan(&u.ID, &u.Name, &u.Email, &u.Dept, &u.Manager, &u.Locale, &u.TZ, &u.Mobile, &u.Departed, &u.Roles, &plats, &pids); err != nil {
		return nil, err
	}
	if len(plats) > 0 {
		u.Platforms = make(map[string]string, len(plats))
		for i, p := range plats {
			u.Platforms[p] = pids[i]
		}
	}
	return u, nil
}

func (db *DB) users(ctx context.Context, q string, args ...any) ([]*flows.User, error) {
	return queryUsers(ctx, db.pool, q, args...)
}

// querier is a pool or a transaction.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

func queryUsers(ctx context.Context, q querier, sql string, args ...any) ([]*flows.User, error) {
	rows, _ := q.Query(ctx, sql, args...)
	us, err := collect(rows, scanUser)
	return us, mapErr(err)
}

const (
	userByID    = userSelect + ` WHERE u.id = $1`
	usersByRole = userSelect + ` WHERE EXISTS (SELECT 1 FROM user_roles r WHERE r.user_id = u.id AND r.role = $1) ORDER BY u.id`
	deptByID    = `SELECT id, name, name_en, head, parent FROM departments WHERE id = $1`
)

func (db *DB) oneUser(ctx context.Context, q string, args ...any) (*flows.User, error) {
	u, err := scanUser(db.pool.QueryRow(ctx, q, args...))
	return u, mapErr(err)
}

// User returns user id or flows.ErrNotFound.
// Users by id are cached (dircache.go).
func (db *DB) User(ctx context.Context, id string) (*flows.User, error) {
	u, gen := db.dir.Get(dirStamp(func(q string, args ...any) pgx.Row { return db.pool.QueryRow(ctx, q, args...) }), id)
	if u != nil {
		return u, nil
	}
	u, err := db.oneUser(ctx, userByID, id)
	if err != nil {
		return nil, fmt.Errorf("get user %s: %w", id, err)
	}
	db.dir.Put(gen, u)
	return u, nil
}

// UserByPlatform finds a user by platform key and the id there.
// Users by platform id are cached with the users by id (dircache.go).
func (db *DB) UserByPlatform(ctx context.Context, platform, platformID string) (*flows.User, error) {
	cu, absent, gen := db.dir.GetByPlatform(dirStamp(func(q string, args ...any) pgx.Row { return db.pool.QueryRow(ctx, q, args...) }), platform, platformID)
	if cu != nil {
		return cu, nil
	}
	if absent {
		return nil, fmt.Errorf("get user %s:%s: %w", platform, platformID, flows.ErrNotFound)
	}
	u, err := db.oneUser(ctx, userSelect+` JOIN user_platforms up ON up.user_id = u.id WHERE up.platform = $1 AND up.platform_id = $2`, platform, platformID)
	if errors.Is(err, flows.ErrNotFound) {
		db.dir.PutAbsent(gen, platform, platformID)
	}
	if err != nil {
		return nil, fmt.Errorf("get user %s:%s: %w", platform, platformID, err)
	}
	db.dir.PutByPlatform(gen, platform, platformID, u)
	return u, nil
}

// UserByEmail finds a user by email, case-insensitively (the first by id
// when several share it).
func (db *DB) UserByEmail(ctx context.Context, email string) (*flows.User, error) {
	key := emailKey(email)
	if key == "" {
		return nil, fmt.Errorf("get user by email: empty email: %w", flows.ErrNotFound)
	}
	u, err := db.oneUser(ctx, userSelect+` WHERE u.email_key = $1 ORDER BY u.id LIMIT 1`, key)
	if err != nil {
		return nil, fmt.Errorf("get user by email %s: %w", email, err)
	}
	return u, nil
}

// Users returns every user ordered by id.
func (db *DB) Users(ctx context.Context) ([]*flows.User, error) {
	us, err := db.users(ctx, userSelect+` ORDER BY u.id`)
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	return us, nil
}

// UsersWithRole returns the users having role, ordered by id.
func (db *DB) UsersWithRole(ctx context.Context, role string) ([]*flows.User, error) {
	us, err := db.users(ctx, usersByRole, role)
	if err != nil {
		return nil, fmt.Errorf("list users with role %s: %w", role, err)
	}
	return us, nil
}

// Department returns department id or flows.ErrNotFound.
func (db *DB) Department(ctx context.Context, id string) (*flows.Department, error) {
	d, err := scanDept(db.pool.QueryRow(ctx, deptByID, id))
	if err != nil {
		return nil, fmt.Errorf("get department %s: %w", id, mapErr(err))
	}
	return d, nil
}

// Departments returns every department ordered by id.
func (db *DB) Departments(ctx context.Context) ([]*flows.Department, error) {
	rows, _ := db.pool.Query(ctx, `SELECT id, name, name_en, head, parent FROM departments ORDER BY id`)
	ds, err := collect(rows, scanDept)
	if err != nil {
		return nil, fmt.Errorf("list departments: %w", mapErr(err))
	}
	return ds, nil
}

func scanDept(s pgx.Row) (*flows.Department, error) {
	d := &flows.Department{}
	if err := s.Scan(&d.ID, &d.Name, &d.NameEN, &d.Head, &d.Parent); err != nil {
		return nil, err
	}
	return d, nil
}
