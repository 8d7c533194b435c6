package sqlite

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

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
			if !utf8.ValidString(p) || !utf8.ValidString(pid) {
				return fmt.Errorf("replace directory: user %s: platform key or id %q: %q is not valid UTF-8", u.ID, p, pid)
			}
		}
		for _, r := range u.Roles {
			if !utf8.ValidString(r) {
				return fmt.Errorf("replace directory: user %s: role %q is not valid UTF-8", u.ID, r)
			}
		}
	}
	for i, d := range depts {
		if d == nil || d.ID == "" {
			return fmt.Errorf("replace directory: department #%d has no id", i)
		}
	}
	defer db.dir.Invalidate()
	err := db.write(ctx, func(t *tx) error {
		if err := bumpDirStamp(ctx, t); err != nil {
			return err
		}
		for _, q := range []string{`DELETE FROM user_platforms`, `DELETE FROM user_roles`, `DELETE FROM users`, `DELETE FROM departments`} {
			if _, err := t.exec(q); err != nil {
				return err
			}
		}
		for _, u := range users {
			roles, platforms, err := userJSON(u)
			if err != nil {
				return fmt.Errorf("user %s: %w", u.ID, err)
			}
			if _, err := t.exec(qInsUser, u.ID, u.Name, u.Email, emailKey(u.Email), u.Dept, u.Manager, u.Locale, u.TZ, roles, platforms, u.Mobile, u.Departed); err != nil {
				return fmt.Errorf("user %s: %w", u.ID, mapErr(err))
			}
			for i, r := range u.Roles {
				if _, err := t.exec(qInsUserRole, u.ID, r, i); err != nil {
					return fmt.Errorf("user %s role %s: %w", u.ID, r, mapErr(err))
				}
			}
			for p, pid := range u.Platforms {
				if _, err := t.exec(qInsUserPlatform, u.ID, p, pid); err != nil {
					return fmt.Errorf("user %s platform %s id %s: %w", u.ID, p, pid, mapErr(err))
				}
			}
		}
		for _, d := range depts {
			if _, err := t.exec(qInsDept, d.ID, d.Name, d.NameEN, d.Head, d.Parent); err != nil {
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

// userJSON encodes the denormalised roles and platforms columns.
func userJSON(u *flows.User) (roles, platforms []byte, err error) {
	r := u.Roles
	if r == nil {
		r = []string{}
	}
	p := u.Platforms
	if p == nil {
		p = map[string]string{}
	}
	if roles, err = json.Marshal(r); err != nil {
		return nil, nil, err
	}
	platforms, err = json.Marshal(p)
	return roles, platforms, err
}

func emailKey(email string) string { return strings.ToLower(strings.TrimSpace(email)) }

const userCols = `id, name, email, dept, manager, locale, tz, roles, platforms, mobile, departed`

// User returns user id or flows.ErrNotFound.
func (db *DB) User(ctx context.Context, id string) (*flows.User, error) {
	if err := ctx.Err(); err != nil { // as a query would: a cancelled caller gets no answer
		return nil, fmt.Errorf("get user %s: %w", id, err)
	}
	cu, gen := db.dir.Get(db.dirStamp(ctx), id)
	if cu != nil {
		return cu, nil
	}
	u, err := db.oneUser(ctx, `SELECT `+userCols+` FROM users WHERE id = ?`, id)
	if err != nil {
		return nil, fmt.Errorf("get user %s: %w", id, err)
	}
	db.dir.Put(gen, u)
	return u, nil
}

// UserByPlatform finds a user by platform key and the id there.
// Users by platform id are cached with the users by id (dircache.go).
func (db *DB) UserByPlatform(ctx context.Context, platform, platformID string) (*flows.User, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("get user %s:%s: %w", platform, platformID, err)
	}
	cu, absent, gen := db.dir.GetByPlatform(db.dirStamp(ctx), platform, platformID)
	if cu != nil {
		return cu, nil
	}
	if absent {
		return nil, fmt.Errorf("get user %s:%s: %w", platform, platformID, flows.ErrNotFound)
	}
	u, err := db.oneUser(ctx, `SELECT u.id, u.name, u.email, u.dept, u.manager, u.locale, u.tz, u.roles, u.platforms, u.mobile, u.departed FROM user_platforms p JOIN users u ON u.id = p.user_id WHERE p.platform = ? AND p.platform_id = ?`, platform, platformID)
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
	us, err := db.users(ctx, `SELECT u.id, u.name, u.email, u.dept, u.manager, u.locale, u.tz, u.roles, u.platforms, u.mobile, u.departed FROM user_roles r JOIN users u ON u.id = r.user_id WHERE r.role = ? ORDER BY u.id`, role)
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

// users runs q (selecting userCols) on the reader pool.
func (db *DB) users(ctx context.Context, q string, args ...any) ([]*flows.User, error) {
	rows, err := db.query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	return collect(rows, scanUser)
}

func scanUser(s scanner) (*flows.User, error) {
	u := &flows.User{}
	var roles, platforms []byte
	if err := s.Scan(&u.ID, &u.Name, &u.Email, &u.Dept, &u.Manager, &u.Locale, &u.TZ, &roles, &platforms, &u.Mobile, &u.Departed); err != nil {
		return nil, err
	}
	if err := json.Unmarshal(roles, &u.Roles); err != nil {
		return nil, fmt.Errorf("decode roles of user %s: %w", u.ID, err)
	}
	if err := json.Unmarshal(platforms, &u.Platforms); err != nil {
		return nil, fmt.Errorf("decode platforms of user %s: %w", u.ID, err)
	}
	if len(u.Roles) == 0 {
		u.Roles = nil
	}
	if len(u.Platforms) == 0 {
		u.Platforms = nil
	}
	return u, nil
}

// Department returns department id or flows.ErrNotFound.
func (db *DB) Department(ctx context.Context, id string) (*flows.Department, error) {
	d, err := scanDept(db.queryRow(ctx, `SELECT id, name, name_en, head, parent FROM departments WHERE id = ?`, id))
	if err != nil {
		return nil, fmt.Errorf("get department %s: %w", id, mapErr(err))
	}
	return d, nil
}

// Departments returns every department ordered by id.
func (db *DB) Departments(ctx context.Context) ([]*flows.Department, error) {
	rows, err := db.query(ctx, `SELECT id, name, name_en, head, parent FROM departments ORDER BY id`)
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

const qInsUser = `INSERT INTO users (id, name, email, email_key, dept, manager, locale, tz, roles, platforms, mobile, departed) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`

const qInsUserRole = `INSERT INTO user_roles (user_id, role, pos) VALUES (?, ?, ?) ON CONFLICT DO NOTHING`

const qInsUserPlatform = `INSERT INTO user_platforms (user_id, platform, platform_id) VALUES (?, ?, ?)`

const qInsDept = `INSERT INTO departments (id, name, name_en, head, parent) VALUES (?, ?, ?, ?, ?)`
