package dingtalkdir

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/flowbot/flowbot/adapters/internal/dircursor"
	"github.com/flowbot/flowbot/bots/dirsync"
)

// Config is one DingTalk app allowed to read the organisation.
type Config struct {
	Platform  string // directory key of the accounts, default "dingtalk"
	BaseURL   string // the OpenAPI host for the token, default https://api.dingtalk.com
	OAPIURL   string // the topapi host, default https://oapi.dingtalk.com
	AppKey    string
	AppSecret string
	PageSize  int // users per page, 1..100, default 100
	Client    *http.Client
}

// Source reads the organisation of one DingTalk app.
type Source struct {
	cfg Config

	tok dirsync.Token // the cached access token
}

var _ dirsync.Source = (*Source)(nil)

// New returns a source over cfg.
func New(cfg Config) *Source {
	cfg.Platform = cmp.Or(cfg.Platform, "dingtalk")
	cfg.BaseURL = cmp.Or(cfg.BaseURL, "https://api.dingtalk.com")
	cfg.OAPIURL = cmp.Or(cfg.OAPIURL, "https://oapi.dingtalk.com")
	cfg.PageSize = cmp.Or(cfg.PageSize, 100)
	if cfg.Client == nil {
		cfg.Client = &http.Client{Timeout: 30 * time.Second}
	}
	return &Source{cfg: cfg}
}

// Platform is the directory key of the accounts.
func (s *Source) Platform() string { return s.cfg.Platform }

// rootDept is DingTalk's root department.
const rootDept = 1

// Fetch returns the page at c. In the department phase the page token is
// the index of the department whose children are listed (0: the root,
// which is listed itself too).
func (s *Source) Fetch(ctx context.Context, c dirsync.Cursor) (dirsync.Page, error) {
	cur, err := dircursor.Parse(c.Token)
	if err != nil {
		return dirsync.Page{}, fmt.Errorf("dingtalk: %w", err)
	}
	if !cur.Users {
		return s.fetchDepts(ctx, c, cur)
	}
	if cur.Dept >= len(c.Depts) {
		return dirsync.Page{}, fmt.Errorf("dingtalk: cursor %q: department %d of %d", c.Token, cur.Dept, len(c.Depts))
	}
	dept, err := strconv.ParseInt(c.Depts[cur.Dept].ID, 10, 64)
	if err != nil {
		return dirsync.Page{}, fmt.Errorf("dingtalk: department id %q: %w", c.Depts[cur.Dept].ID, err)
	}
	off := int64(0)
	if cur.Page != "" {
		if off, err = strconv.ParseInt(cur.Page, 10, 64); err != nil || off < 0 {
			return dirsync.Page{}, fmt.Errorf("dingtalk: cursor %q: bad offset", c.Token)
		}
	}
	var res struct {
		HasMore    bool     `json:"has_more"`
		NextCursor *int64   `json:"next_cursor"`
		List       []member `json:"list"`
	}
	if err := s.call(ctx, "/topapi/v2/user/list", map[string]any{"dept_id": dept, "cursor": off, "size": s.cfg.PageSize, "language": "zh_CN"}, &res); err != nil {
		return dirsync.Page{}, fmt.Errorf("dingtalk: list users of department %d: %w", dept, err)
	}
	var page dirsync.Page
	for _, u := range res.List {
		page.People = append(page.People, u.person())
	}
	next := ""
	if res.HasMore {
		if res.NextCursor == nil || *res.NextCursor <= off {
			return dirsync.Page{}, fmt.Errorf("dingtalk: list users of department %d: has_more without a forward next_cursor", dept)
		}
		next = strconv.FormatInt(*res.NextCursor, 10)
	}
	page.Next = cur.After(next, len(c.Depts))
	return page, nil
}

// member is one DingTalk member as user/list and user/get give it.
type member struct {
	UserID        string  `json:"userid"`
	Name          string  `json:"name"`
	Email         string  `json:"email"`
	OrgEmail      string  `json:"org_email"`
	Mobile        string  `json:"mobile"`
	DeptIDList    []int64 `json:"dept_id_list"`
	ManagerUserID string  `json:"manager_userid"`
}

// person is u in the directory. DingTalk lists no leavers, so every
// member it gives is active; the org email wins over the private one.
func (u member) person() dirsync.Person {
	depts := make([]string, len(u.DeptIDList))
	for i, d := range u.DeptIDList {
		depts[i] = strconv.FormatInt(d, 10)
	}
	return dirsync.Person{ID: u.UserID, Name: u.Name, Email: cmp.Or(u.OrgEmail, u.Email),
		Mobile: u.Mobile, Depts: depts, Manager: u.ManagerUserID, Active: true}
}

type deptInfo struct {
	DeptID   int64    `json:"dept_id"`
	Name     string   `json:"name"`
	ParentID int64    `json:"parent_id"`
	Managers []string `json:"dept_manager_userid_list"`
}

func (s *Source) fetchDepts(ctx context.Context, c dirsync.Cursor, cur dircursor.Cursor) (dirsync.Page, error) {
	i := 0
	if cur.Page != "" {
		var err error
		if i, err = strconv.Atoi(cur.Page); err != nil || i < 1 || i >= len(c.Depts) {
			return dirsync.Page{}, fmt.Errorf("dingtalk: cursor %q: bad department index", c.Token)
		}
	}
	var page dirsync.Page
	parent := int64(rootDept)
	if i == 0 {
		root, err := s.dept(ctx, rootDept)
		if err != nil {
			return dirsync.Page{}, err
		}
		page.Depts = append(page.Depts, root)
	} else {
		var err error
		if parent, err = strconv.ParseInt(c.Depts[i].ID, 10, 64); err != nil {
			return dirsync.Page{}, fmt.Errorf("dingtalk: department id %q: %w", c.Depts[i].ID, err)
		}
	}
	var subs []deptInfo
	if err := s.call(ctx, "/topapi/v2/department/listsub", map[string]any{"dept_id": parent, "language": "zh_CN"}, &subs); err != nil {
		return dirsync.Page{}, fmt.Errorf("dingtalk: list departments under %d: %w", parent, err)
	}
	for _, sub := range subs {
		d, err := s.dept(ctx, sub.DeptID)
		if err != nil {
			return dirsync.Page{}, err
		}
		page.Depts = append(page.Depts, d)
	}
	known := len(c.Depts) + len(page.Depts)
	if i+1 < known {
		page.Next = dircursor.Cursor{Page: strconv.Itoa(i + 1)}.String()
	} else {
		page.Next = cur.After("", known)
	}
	return page, nil
}

// dept reads one department with its managers (the first is its head).
func (s *Source) dept(ctx context.Context, id int64) (dirsync.Dept, error) {
	var d deptInfo
	if err := s.call(ctx, "/topapi/v2/department/get", map[string]any{"dept_id": id, "language": "zh_CN"}, &d); err != nil {
		return dirsync.Dept{}, fmt.Errorf("dingtalk: get department %d: %w", id, err)
	}
	out := dirsync.Dept{ID: strconv.FormatInt(d.DeptID, 10), Name: d.Name}
	if d.ParentID != 0 {
		out.Parent = strconv.FormatInt(d.ParentID, 10)
	}
	if len(d.Managers) > 0 {
		out.Head = d.Managers[0]
	}
	return out, nil
}

// rateLimitCodes are the errcodes of DingTalk's flow control.
var rateLimitCodes = map[int]bool{88: true, 90002: true, 90018: true, 90006: true}

func (s *Source) call(ctx context.Context, path string, in, out any) error {
	tok, err := s.accessToken(ctx)
	if err != nil {
		return err
	}
	b, _ := json.Marshal(in)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.cfg.OAPIURL+path+"?access_token="+url.QueryEscape(tok), bytes.NewReader(b))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := s.cfg.Client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		return fmt.Errorf("read answer: %w", err)
	}
	if resp.StatusCode == http.StatusTooManyRequests {
		return &dirsync.RateLimited{Platform: s.cfg.Platform, Detail: "HTTP 429"}
	}
	var env struct {
		ErrCode int             `json:"errcode"`
		ErrMsg  string          `json:"errmsg"`
		Result  json.RawMessage `json:"result"`
	}
	if err := json.Unmarshal(body, &env); err != nil {
		return fmt.Errorf("HTTP %d: %w", resp.StatusCode, err)
	}
	if rateLimitCodes[env.ErrCode] {
		return &dirsync.RateLimited{Platform: s.cfg.Platform, Detail: env.ErrMsg}
	}
	if env.ErrCode != 0 {
		if env.ErrCode == 40014 || env.ErrCode == 42001 {
			s.tok.Forget()
		}
		return &apiError{Code: env.ErrCode, Msg: env.ErrMsg}
	}
	if err := json.Unmarshal(env.Result, out); err != nil {
		return fmt.Errorf("decode result: %w", err)
	}
	return nil
}

// apiError is a DingTalk answer with a non-zero errcode.
type apiError struct {
	Code int
	Msg  string
}

func (e *apiError) Error() string { return fmt.Sprintf("errcode %d: %s", e.Code, e.Msg) }

func (s *Source) accessToken(ctx context.Context) (string, error) {
	return s.tok.Get(ctx, s.fetchAccessToken)
}

// fetchAccessToken asks the platform for a new token and how long it lives.
func (s *Source) fetchAccessToken(ctx context.Context) (string, time.Duration, error) {
	b, _ := json.Marshal(map[string]string{"appKey": s.cfg.AppKey, "appSecret": s.cfg.AppSecret})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.cfg.BaseURL+"/v1.0/oauth2/accessToken", bytes.NewReader(b))
	if err != nil {
		return "", 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := s.cfg.Client.Do(req)
	if err != nil {
		return "", 0, fmt.Errorf("get access token: %w", err)
	}
	defer resp.Body.Close()
	var out struct {
		AccessToken string `json:"accessToken"`
		ExpireIn    int64  `json:"expireIn"`
		Code        string `json:"code"`
		Message     string `json:"message"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<16)).Decode(&out); err != nil {
		return "", 0, fmt.Errorf("get access token: HTTP %d: %w", resp.StatusCode, err)
	}
	if resp.StatusCode != http.StatusOK || out.AccessToken == "" {
		return "", 0, fmt.Errorf("get access token: HTTP %d %s: %s", resp.StatusCode, out.Code, out.Message)
	}
	return out.AccessToken, time.Duration(out.ExpireIn) * time.Second, nil
}
