package wecomdir

import (
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

// Config is one WeCom app allowed to read the address book.
type Config struct {
	Platform string // directory key of the accounts, default "wecom"
	BaseURL  string // default https://qyapi.weixin.qq.com
	CorpID   string
	Secret   string // the secret of an app with address-book read access
	Client   *http.Client
}

// Source reads one corp's address book.
type Source struct {
	cfg Config

	tok dirsync.Token // the cached access token
}

var _ dirsync.Source = (*Source)(nil)

// New returns a source over cfg.
func New(cfg Config) *Source {
	cfg.Platform = cmp.Or(cfg.Platform, "wecom")
	cfg.BaseURL = cmp.Or(cfg.BaseURL, "https://qyapi.weixin.qq.com")
	if cfg.Client == nil {
		cfg.Client = &http.Client{Timeout: 30 * time.Second}
	}
	return &Source{cfg: cfg}
}

// Platform is the directory key of the accounts.
func (s *Source) Platform() string { return s.cfg.Platform }

// Fetch returns the page at c: all departments, then one department's
// members per page.
func (s *Source) Fetch(ctx context.Context, c dirsync.Cursor) (dirsync.Page, error) {
	cur, err := dircursor.Parse(c.Token)
	if err != nil {
		return dirsync.Page{}, fmt.Errorf("wecom: %w", err)
	}
	var page dirsync.Page
	if !cur.Users {
		if cur.Page != "" {
			return dirsync.Page{}, fmt.Errorf("wecom: cursor %q: departments are not paged", c.Token)
		}
		var res struct {
			Department []struct {
				ID       int64    `json:"id"`
				Name     string   `json:"name"`
				NameEN   string   `json:"name_en"`
				ParentID int64    `json:"parentid"`
				Leaders  []string `json:"department_leader"`
			} `json:"department"`
		}
		if err := s.get(ctx, "/cgi-bin/department/list", url.Values{}, &res); err != nil {
			return dirsync.Page{}, fmt.Errorf("wecom: list departments: %w", err)
		}
		for _, d := range res.Department {
			nd := dirsync.Dept{ID: strconv.FormatInt(d.ID, 10), Name: d.Name, NameEN: d.NameEN}
			if d.ParentID != 0 {
				nd.Parent = strconv.FormatInt(d.ParentID, 10)
			}
			if len(d.Leaders) > 0 {
				nd.Head = d.Leaders[0]
			}
			page.Depts = append(page.Depts, nd)
		}
		page.Next = cur.After("", len(page.Depts))
		return page, nil
	}
	if cur.Dept >= len(c.Depts) || cur.Page != "" {
		return dirsync.Page{}, fmt.Errorf("wecom: cursor %q: department %d of %d", c.Token, cur.Dept, len(c.Depts))
	}
	var res struct {
		UserList []struct {
			UserID         string   `json:"userid"`
			Name           string   `json:"name"`
			Department     []int64  `json:"department"`
			MainDepartment int64    `json:"main_department"`
			Email          string   `json:"email"`
			BizMail        string   `json:"biz_mail"`
			Mobile         string   `json:"mobile"`
			Status         int      `json:"status"`
			DirectLeader   []string `json:"direct_leader"`
		} `json:"userlist"`
	}
	if err := s.get(ctx, "/cgi-bin/user/list", url.Values{"department_id": {c.Depts[cur.Dept].ID}}, &res); err != nil {
		return dirsync.Page{}, fmt.Errorf("wecom: list members of department %s: %w", c.Depts[cur.Dept].ID, err)
	}
	for _, u := range res.UserList {
		var depts []string
		if u.MainDepartment != 0 {
			depts = append(depts, strconv.FormatInt(u.MainDepartment, 10))
		}
		for _, d := range u.Department {
			if d != u.MainDepartment {
				depts = append(depts, strconv.FormatInt(d, 10))
			}
		}
		p := dirsync.Person{ID: u.UserID, Name: u.Name, Email: cmp.Or(u.BizMail, u.Email), Mobile: u.Mobile, Depts: depts,
			Active: u.Status == 1 || u.Status == 4}
		if len(u.DirectLeader) > 0 {
			p.Manager = u.DirectLeader[0]
		}
		page.People = append(page.People, p)
	}
	page.Next = cur.After("", len(c.Depts))
	return page, nil
}

// rateLimitCodes are WeCom's frequency-limit errcodes.
var rateLimitCodes = map[int]bool{45009: true, 45033: true, 45011: true}

func (s *Source) get(ctx context.Context, path string, q url.Values, out any) error {
	tok, err := s.accessToken(ctx)
	if err != nil {
		return err
	}
	q.Set("access_token", tok)
	body, status, err := s.do(ctx, path, q)
	if err != nil {
		return err
	}
	var env struct {
		ErrCode int    `json:"errcode"`
		ErrMsg  string `json:"errmsg"`
	}
	if status == http.StatusTooManyRequests {
		return &dirsync.RateLimited{Platform: s.cfg.Platform, Detail: "HTTP 429"}
	}
	if err := json.Unmarshal(body, &env); err != nil {
		return fmt.Errorf("HTTP %d: %w", status, err)
	}
	if rateLimitCodes[env.ErrCode] {
		return &dirsync.RateLimited{Platform: s.cfg.Platform, Detail: env.ErrMsg}
	}
	if env.ErrCode != 0 {
		if env.ErrCode == 40014 || env.ErrCode == 42001 {
			s.tok.Forget()
		}
		return fmt.Errorf("errcode %d: %s", env.ErrCode, env.ErrMsg)
	}
	if err := json.Unmarshal(body, out); err != nil {
		return fmt.Errorf("decode answer: %w", err)
	}
	return nil
}

func (s *Source) do(ctx context.Context, path string, q url.Values) ([]byte, int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.cfg.BaseURL+path+"?"+q.Encode(), nil)
	if err != nil {
		return nil, 0, err
	}
	resp, err := s.cfg.Client.Do(req)
	if err != nil {
		return nil, 0, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		return nil, 0, fmt.Errorf("read answer: %w", err)
	}
	return body, resp.StatusCode, nil
}

func (s *Source) accessToken(ctx context.Context) (string, error) {
	return s.tok.Get(ctx, s.fetchAccessToken)
}

// fetchAccessToken asks the platform for a new token and how long it lives.
func (s *Source) fetchAccessToken(ctx context.Context) (string, time.Duration, error) {
	body, status, err := s.do(ctx, "/cgi-bin/gettoken", url.Values{"corpid": {s.cfg.CorpID}, "corpsecret": {s.cfg.Secret}})
	if err != nil {
		return "", 0, fmt.Errorf("get access token: %w", err)
	}
	var out struct {
		ErrCode     int    `json:"errcode"`
		ErrMsg      string `json:"errmsg"`
		AccessToken string `json:"access_token"`
		ExpiresIn   int    `json:"expires_in"`
	}
	if err := json.Unmarshal(body, &out); err != nil {
		return "", 0, fmt.Errorf("get access token: HTTP %d: %w", status, err)
	}
	if out.ErrCode != 0 || out.AccessToken == "" {
		return "", 0, fmt.Errorf("get access token: errcode %d: %s", out.ErrCode, out.ErrMsg)
	}
	return out.AccessToken, time.Duration(out.ExpiresIn) * time.Second, nil
}
