package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

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
	err := db.write(ctx, func(t *tx) error {
		for _, q := range []string{`DELETE FROM user_platforms`, `DELETE FROM user_roles`, `DELETE FROM users`, `DELETE FROM departments`} {
			if _, err := t.tx.ExecContext(ctx, q); err != nil {
				return err
			}
		}
		insU, err := t.tx.PrepareContext(ctx, `INSERT INTO users (id, name, email, email_key, dept, manager, locale, tz) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`)
		if err != nil {
			return err
		}
		insR, err := t.tx.PrepareContext(ctx, `INSERT INTO user_roles (user_id, role, pos) VALUES (?, ?, ?) ON CONFLICT DO NOTHING`)
		if err != nil {
			return err
		}
		insP, err := t.tx.PrepareContext(ctx, `INSERT INTO user_platforms (user_id, platform, platform_id) VALUES (?, ?, ?)`)
		if err != nil {
			return err
		}
		insD, err := t.tx.PrepareContext(ctx, `INSERT INTO departments (id, name, name_en, head, parent) VALUES (?, ?, ?, ?, ?)`)
		if err != nil {
			return err
		}
		for _, u := range users {
			if _, err := insU.ExecContext(ctx, u.ID, u.Name, u.Email, emailKey(u.Email), u.Dept, u.Manager, u.Locale, u.TZ); err != nil {
				return fmt.Errorf("user %s: %w", u.ID, mapErr(err))
			}
			for i, r := range u.Roles {
				if _, err := insR.ExecContext(ctx, u.ID, r, i); err != nil {
					return fmt.Errorf("user %s role %s: %w", u.ID, r, mapErr(err))
				}
			}
			for p, pid := range u.Platforms {
				if _, err := insP.ExecContext(ctx, u.ID, p, pid); err != nil {
					return fmt.Errorf("user %s platform %s id %s: %w", u.ID, p, pid, mapErr(err))
				}
			}
		}
		for _, d := range depts {
			if _, err := insD.ExecContext(ctx, d.ID, d.Name, d.NameEN, d.Head, d.Parent); err != nil {
				return fmt.Errorf("department %s: %w", d.ID, mapErr(err))
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("replace directory: %w", err)
	}
	return nil
}

func emailKey(email string) string { return strings.ToLower(strings.TrimSpace(email)) }

const userCols = `id, name, email, dept, manager, locale, tz`

// User returns user id or flows.ErrNotFound.
func (db *DB) User(ctx context.Context, id string) (*flows.User, error) {
	u, err := db.oneUser(ctx, `SELECT `+userCols+` FROM users WHERE id = ?`, id)
	if err != nil {
		return nil, fmt.Errorf("get user %s: %w", id, err)
	}
	return u, nil
}

// UserByPlatform finds a user by platform key and the id there.
func (db *DB) UserByPlatform(ctx context.Context, platform, platformID string) (*flows.User, error) {
	u, err := db.oneUser(ctx, `SELECT u.id, u.name, u.email, u.dept, u.manager, u.locale, u.tz FROM user_platforms p JOIN users u ON u.id = p.user_id WHERE p.platform = ? AND p.platform_id = ?`, platform, platformID)
	if err != nil {
		return nil, fmt.Errorf("get user %s:%s: %w", platform, platformID, err)
	}
	return u, nil
}

// UserByEmail finds a user by email, case-insensitively (the first by id
// when several share it).
func (db *DB) UserByEmail(ctx context.Context, email string) (*flows.User, error) {
	key := emailKey(email)
	if key == "" {
		return nil, fmt.Errorf("get user by email: empty email: %w", flows.ErrNotFound)
	}
	u, err := db.oneUser(ctx, `SELECT `+userCols+` FROM users WHERE email_key = ? AND email_key <> '' ORDER BY id LIMIT 1`, key)
	if err != nil {
		return nil, fmt.Errorf("get user by email %s: %w", email, err)
	}
	return u, nil
}

// Users returns every user ordered by id.
func (db *DB) Users(ctx context.Context) ([]*flows.User, error) {
	us, err := db.users(ctx, `SELECT `+userCols+` FROM users ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	return us, nil
}

// UsersWithRole returns the users having role, ordered by id.
func (db *DB) UsersWithRole(ctx context.Context, role string) ([]*flows.User, error) {
	us, err := db.users(ctx, `SELECT u.id, u.name, u.email, u.dept, u.manager, u.locale, u.tz FROM user_roles r JOIN users u ON u.id = r.user_id WHERE r.role = ? ORDER BY u.id`, role)
	if err != nil {
		return nil, fmt.Errorf("list users with role %s: %w", role, err)
	}
	return us, nil
}

func (db *DB) oneUser(ctx context.Context, q string, args ...any) (*flows.User, error) {
	us, err := db.users(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	if len(us) == 0 {
		return nil, flows.ErrNotFound
	}
	return us[0], nil
}

// users runs q (selecting userCols) and fills roles and platforms, all in
// one read transaction.
func (db *DB) users(ctx context.Context, q string, args ...any) ([]*flows.User, error) {
	var out []*flows.User
	err := db.read(ctx, func(t *tx) error {
		rows, err := t.tx.QueryContext(ctx, q, args...)
		if err != nil {
			return err
		}
		out, err = collect(rows, func(s scanner) (*flows.User, error) {
			u := &flows.User{}
			return u, s.Scan(&u.ID, &u.Name, &u.Email, &u.Dept, &u.Manager, &u.Locale, &u.TZ)
		})
		if err != nil || len(out) == 0 {
			return err
		}
		byID := make(map[string]*flows.User, len(out))
		for _, u := range out {
			byID[u.ID] = u
		}
		// One user: look up by id; many: read the small side tables whole.
		where, wargs := "", []any(nil)
		if len(out) == 1 {
			where, wargs = ` WHERE user_id = ?`, []any{out[0].ID}
		}
		if err := eachRow(ctx, t.tx, `SELECT user_id, role FROM user_roles`+where+` ORDER BY user_id, pos`, wargs, func(uid, role string) {
			if u := byID[uid]; u != nil {
				u.Roles = append(u.Roles, role)
			}
		}); err != nil {
			return err
		}
		return eachRow(ctx, t.tx, `SELECT user_id, platform, platform_id FROM user_platforms`+where, wargs, func(uid, kv string) {
			if u := byID[uid]; u != nil {
				p, id, _ := strings.Cut(kv, "\x00")
				if u.Platforms == nil {
					u.Platforms = map[string]string{}
				}
				u.Platforms[p] = id
			}
		})
	})
	return out, err
}

// eachRow calls fn(user_id, value) for each row of q; a third column is
// joined to the second with a NUL byte.
func eachRow(ctx context.Context, t *sql.Tx, q string, args []any, fn func(uid, v string)) error {
	rows, err := t.QueryContext(ctx, q, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return err
	}
	for rows.Next() {
		var uid, a, b string
		dest := []any{&uid, &a, &b}[:len(cols)]
		if err := rows.Scan(dest...); err != nil {
			return err
		}
		if len(cols) == 3 {
			a += "\x00" + b
		}
		fn(uid, a)
	}
	return rows.Err()
}

// Department returns department id or flows.ErrNotFound.
func (db *DB) Department(ctx context.Context, id string) (*flows.Department, error) {
	d, err := scanDept(db.reader.QueryRowContext(ctx, `SELECT id, name, name_en, head, parent FROM departments WHERE id = ?`, id))
	if err != nil {
		return nil, fmt.Errorf("get department %s: %w", id, mapErr(err))
	}
	return d, nil
}

// Departments returns every department ordered by id.
func (db *DB) Departments(ctx context.Context) ([]*flows.Department, error) {
	rows, err := db.reader.QueryContext(ctx, `SELECT id, name, name_en, head, parent FROM departments ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("list departments: %w", err)
	}
	ds, err := collect(rows, scanDept)
	if err != nil {
		return nil, fmt.Errorf("list departments: %w", err)
	}
	return ds, nil
}

func scanDept(s scanner) (*flows.Department, error) {
	d := &flows.Department{}
	if err := s.Scan(&d.ID, &d.Name, &d.NameEN, &d.Head, &d.Parent); err != nil {
		return nil, err
	}
	return d, nil
}
