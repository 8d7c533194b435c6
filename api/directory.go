package api

import (
	"errors"
	"fmt"
	"net/http"
	"slices"

	"github.com/flowbot/flowbot/flows"
)

// Directory changes go through ReplaceDirectory (the store swaps the whole
// directory atomically): read, change one entry, write back. dirMu
// serialises the changes made through this process, and Config.DirectoryLock
// (a lease shared by the replicas and the scheduled directory sync) those of
// every process.

// ErrDirectoryBusy is what a DirectoryLock returns when another writer
// (a replica, a directory sync) held the directory for too long.
var ErrDirectoryBusy = errors.New("directory busy")

type userBody struct {
	Name      string            `json:"name"`
	Email     string            `json:"email"`
	Dept      string            `json:"dept"`
	Manager   string            `json:"manager"`
	Roles     []string          `json:"roles"`
	Locale    string            `json:"locale"`
	TZ        string            `json:"tz"`
	Platforms map[string]string `json:"platforms"`
}

type deptBody struct {
	Name   string `json:"name"`
	NameEN string `json:"name_en"`
	Head   string `json:"head"`
	Parent string `json:"parent"`
}

func (s *Server) manageDirectory(r *http.Request, c *caller) (string, error) {
	if c.user != nil {
		if err := flows.CanManage(c.user); err != nil {
			return "", err
		}
	}
	id := r.PathValue("id")
	if !idRe.MatchString(id) {
		return "", errInvalid("路径中的 id 不合法。", "The id in the path is not valid.")
	}
	if s.cfg.Directory == nil {
		return "", errf(CodeUnavailable, "这个部署不能通过 API 修改通讯录。", "This deployment cannot change the directory through the API.")
	}
	return id, nil
}

// changeDirectory applies fn to the whole directory and writes it back.
func (s *Server) changeDirectory(r *http.Request, fn func(us []*flows.User, ds []*flows.Department) ([]*flows.User, []*flows.Department, error)) error {
	s.dirMu.Lock()
	defer s.dirMu.Unlock()
	if s.cfg.DirectoryLock != nil {
		unlock, err := s.cfg.DirectoryLock(r.Context())
		if errors.Is(err, ErrDirectoryBusy) {
			return errf(CodeUnavailable, "通讯录正在同步或修改，请稍后再试。", "The directory is being synced or changed; try again shortly.")
		}
		if err != nil {
			return fmt.Errorf("lock the directory: %w", err)
		}
		defer unlock()
	}
	us, err := s.cfg.Queries.Users(r.Context())
	if err != nil {
		return err
	}
	ds, err := s.cfg.Queries.Departments(r.Context())
	if err != nil {
		return err
	}
	us, ds, err = fn(us, ds)
	if err != nil {
		return err
	}
	return s.cfg.Directory.ReplaceDirectory(r.Context(), us, ds)
}

func (s *Server) putUser(w http.ResponseWriter, r *http.Request, c *caller) error {
	id, err := s.manageDirectory(r, c)
	if err != nil {
		return err
	}
	var b userBody
	if err := decode(r, &b); err != nil {
		return err
	}
	if b.Name == "" || len(b.Name) > 200 || len(b.Email) > 200 || len(b.Roles) > 50 || len(b.Platforms) > 20 {
		return errInvalid("name 必填；各字段不能过长。", "name is required; fields must not be too long.")
	}
	for _, x := range append([]string{b.Dept, b.Manager}, b.Roles...) {
		if x != "" && !idRe.MatchString(x) {
			return errInvalid("dept、manager、roles 须为 id。", "dept, manager and roles must be ids.")
		}
	}
	u := &flows.User{ID: id, Name: b.Name, Email: b.Email, Dept: b.Dept, Manager: b.Manager, Roles: b.Roles, Locale: b.Locale, TZ: b.TZ, Platforms: b.Platforms}
	created := true
	err = s.changeDirectory(r, func(us []*flows.User, ds []*flows.Department) ([]*flows.User, []*flows.Department, error) {
		if b.Dept != "" && !slices.ContainsFunc(ds, func(d *flows.Department) bool { return d.ID == b.Dept }) {
			return nil, nil, errInvalid("没有部门 "+b.Dept+"。", "There is no department "+b.Dept+".")
		}
		us, created = upsert(us, u, func(x *flows.User) bool { return x.ID == id })
		return us, ds, nil
	})
	if err != nil {
		return err
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	writeJSON(w, status, u)
	return nil
}

func (s *Server) deleteUser(w http.ResponseWriter, r *http.Request, c *caller) error {
	id, err := s.manageDirectory(r, c)
	if err != nil {
		return err
	}
	err = s.changeDirectory(r, func(us []*flows.User, ds []*flows.Department) ([]*flows.User, []*flows.Department, error) {
		n := len(us)
		us = slices.DeleteFunc(us, func(x *flows.User) bool { return x.ID == id })
		if len(us) == n {
			return nil, nil, flows.Errorf(flows.CodeNotFound, "user_unknown", map[string]any{"user": id})
		}
		return us, ds, nil
	})
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) putDept(w http.ResponseWriter, r *http.Request, c *caller) error {
	id, err := s.manageDirectory(r, c)
	if err != nil {
		return err
	}
	var b deptBody
	if err := decode(r, &b); err != nil {
		return err
	}
	if b.Name == "" || len(b.Name) > 200 || len(b.NameEN) > 200 {
		return errInvalid("name 必填；各字段不能过长。", "name is required; fields must not be too long.")
	}
	for _, x := range []string{b.Head, b.Parent} {
		if x != "" && !idRe.MatchString(x) {
			return errInvalid("head、parent 须为 id。", "head and parent must be ids.")
		}
	}
	d := &flows.Department{ID: id, Name: b.Name, NameEN: b.NameEN, Head: b.Head, Parent: b.Parent}
	created := true
	err = s.changeDirectory(r, func(us []*flows.User, ds []*flows.Department) ([]*flows.User, []*flows.Department, error) {
		ds, created = upsert(ds, d, func(x *flows.Department) bool { return x.ID == id })
		return us, ds, nil
	})
	if err != nil {
		return err
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	writeJSON(w, status, d)
	return nil
}

// upsert replaces the element of xs that is the same as v, or appends v;
// created reports which.
func upsert[T any](xs []T, v T, same func(T) bool) (_ []T, created bool) {
	if i := slices.IndexFunc(xs, same); i >= 0 {
		xs[i] = v
		return xs, false
	}
	return append(xs, v), true
}
