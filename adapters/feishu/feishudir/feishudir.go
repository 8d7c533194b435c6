package feishudir

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

// Config is one Feishu app allowed to read the contact directory.
type Config struct {
	// Platform is the key of the accounts in the directory: "feishu", or
	// "feishu:<app id>" when several apps are configured.
	Platform  string
	BaseURL   string // https://open.feishu.cn, https://open.larksuite.com or a fake
	AppID     string
	AppSecret string
	PageSize  int // 1..50, default 50
	Client    *http.Client
}

// Source reads the directory of one Feishu app.
type Source struct {
	cfg Config

	tok dirsync.Token // the cached access token
}

var _ dirsync.Source = (*Source)(nil)

// New returns a source over cfg.
func New(cfg Config) *Source {
	cfg.Platform = cmp.Or(cfg.Platform, "feishu")
	cfg.BaseURL = cmp.Or(cfg.BaseURL, "https://open.feishu.cn")
	cfg.PageSize = cmp.Or(cfg.PageSize, 50)
	if cfg.Client == nil {
		cfg.Client = &http.Client{Timeout: 30 * time.Second}
	}
	return &Source{cfg: cfg}
}

// Platform is the directory key of the accounts.
func (s *Source) Platform() string { return s.cfg.Platform }

// Fetch returns the page at c: departments first, then each department's
// members.
func (s *Source) Fetch(ctx context.Context, c dirsync.Cursor) (dirsync.Page, error) {
	cur, err := dircursor.Parse(c.Token)
	if err != nil {
		return dirsync.Page{}, fmt.Errorf("feishu: %w", err)
	}
	q := url.Values{"department_id_type": {"open_department_id"}, "page_size": {strconv.Itoa(s.cfg.PageSize)}}
	if cur.Page != "" {
		q.Set("page_token", cur.Page)
	}
	depts := append([]string{"0"}, deptIDs(c.Depts)...)
	var page dirsync.Page
	var data struct {
		HasMore   bool              `json:"has_more"`
		PageToken string            `json:"page_token"`
		Items     []json.RawMessage `json:"items"`
	}
	if !cur.Users {
		q.Set("fetch_child", "true")
		if err := s.get(ctx, "/open-apis/contact/v3/departments/0/children", q, &data); err != nil {
			return dirsync.Page{}, fmt.Errorf("feishu: list departments: %w", err)
		}
		for _, raw := range data.Items {
			var d struct {
				Name     string `json:"name"`
				I18nName struct {
					EnUS string `json:"en_us"`
				} `json:"i18n_name"`
				OpenDepartmentID   string `json:"open_department_id"`
				ParentDepartmentID string `json:"parent_department_id"`
				LeaderUserID       string `json:"leader_user_id"`
			}
			if err := json.Unmarshal(raw, &d); err != nil {
				return dirsync.Page{}, fmt.Errorf("feishu: decode department: %w", err)
			}
			if d.OpenDepartmentID == "" {
				return dirsync.Page{}, fmt.Errorf("feishu: a department without open_department_id")
			}
			parent := d.ParentDepartmentID
			if parent == "0" {
				parent = ""
			}
			page.Depts = append(page.Depts, dirsync.Dept{ID: d.OpenDepartmentID, Name: d.Name, NameEN: d.I18nName.EnUS, Parent: parent, Head: d.LeaderUserID})
		}
		// The users phase walks the root and every department listed.
		page.Next = cur.After(next(data.HasMore, data.PageToken), len(depts)+len(page.Depts))
		return page, nil
	}
	if cur.Dept >= len(depts) {
		return dirsync.Page{}, fmt.Errorf("feishu: cursor %q: department %d of %d", c.Token, cur.Dept, len(depts))
	}
	q.Set("department_id", depts[cur.Dept])
	q.Set("user_id_type", "open_id")
	if err := s.get(ctx, "/open-apis/contact/v3/users/find_by_department", q, &data); err != nil {
		return dirsync.Page{}, fmt.Errorf("feishu: list users of department %s: %w", depts[cur.Dept], err)
	}
	for _, raw := range data.Items {
		var u struct {
			OpenID        string   `json:"open_id"`
			Name          string   `json:"name"`
			Email         string   `json:"email"`
			Mobile        string   `json:"mobile"`
			DepartmentIDs []string `json:"department_ids"`
			LeaderUserID  string   `json:"leader_user_id"`
			Status        struct {
				IsResigned bool `json:"is_resigned"`
				IsFrozen   bool `json:"is_frozen"`
			} `json:"status"`
		}
		if err := json.Unmarshal(raw, &u); err != nil {
			return dirsync.Page{}, fmt.Errorf("feishu: decode user: %w", err)
		}
		page.People = append(page.People, dirsync.Person{ID: u.OpenID, Name: u.Name, Email: u.Email, Mobile: u.Mobile,
			Depts: u.DepartmentIDs, Manager: u.LeaderUserID, Active: !u.Status.IsResigned && !u.Status.IsFrozen})
	}
	page.Next = cur.After(next(data.HasMore, data.PageToken), len(depts))
	return page, nil
}

func next(more bool, token string) string {
	if more {
		return token
	}
	return ""
}

func deptIDs(ds []dirsync.Dept) []string {
	ids := make([]string, len(ds))
	for i, d := range ds {
		ids[i] = d.ID
	}
	return ids
}

// feishu's answer envelope.
type envelope struct {
	Code int             `json:"code"`
	Msg  string          `json:"msg"`
	Data json.RawMessage `json:"data"`
}

const codeRateLimited = 99991400

func (s *Source) get(ctx context.Context, path string, q url.Values, out any) error {
	tok, err := s.tenantToken(ctx)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.cfg.BaseURL+path+"?"+q.Encode(), nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := s.cfg.Client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		return fmt.Errorf("read answer: %w", err)
	}
	var env envelope
	jerr := json.Unmarshal(body, &env)
	if resp.StatusCode == http.StatusTooManyRequests || env.Code == codeRateLimited {
		after, _ := strconv.Atoi(resp.Header.Get("x-ogw-ratelimit-reset"))
		return &dirsync.RateLimited{Platform: s.cfg.Platform, After: time.Duration(after) * time.Second, Detail: env.Msg}
	}
	if jerr != nil {
		return fmt.Errorf("HTTP %d: %w", resp.StatusCode, jerr)
	}
	if env.Code != 0 {
		if env.Code == 99991663 || env.Code == 99991661 {
			s.tok.Forget()
		}
		return fmt.Errorf("code %d: %s", env.Code, env.Msg)
	}
	if err := json.Unmarshal(env.Data, out); err != nil {
		return fmt.Errorf("decode data: %w", err)
	}
	return nil
}

func (s *Source) tenantToken(ctx context.Context) (string, error) {
	return s.tok.Get(ctx, s.fetchTenantToken)
}

// fetchTenantToken asks the platform for a new token and how long it lives.
func (s *Source) fetchTenantToken(ctx context.Context) (string, time.Duration, error) {
	b, _ := json.Marshal(map[string]string{"app_id": s.cfg.AppID, "app_secret": s.cfg.AppSecret})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.cfg.BaseURL+"/open-apis/auth/v3/tenant_access_token/internal", bytes.NewReader(b))
	if err != nil {
		return "", 0, err
	}
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	resp, err := s.cfg.Client.Do(req)
	if err != nil {
		return "", 0, fmt.Errorf("get tenant token: %w", err)
	}
	defer resp.Body.Close()
	var out struct {
		Code   int    `json:"code"`
		Msg    string `json:"msg"`
		Token  string `json:"tenant_access_token"`
		Expire int    `json:"expire"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<16)).Decode(&out); err != nil {
		return "", 0, fmt.Errorf("get tenant token: HTTP %d: %w", resp.StatusCode, err)
	}
	if out.Code != 0 || out.Token == "" {
		return "", 0, fmt.Errorf("get tenant token: code %d: %s", out.Code, out.Msg)
	}
	return out.Token, time.Duration(out.Expire) * time.Second, nil
}
