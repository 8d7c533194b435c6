package graphdir

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/flowbot/flowbot/bots/dirsync"
)

// Config is one Entra ID (Azure AD) app allowed to read users (User.Read.All).
type Config struct {
	Platform     string // directory key of the accounts, default "teams"
	LoginURL     string // default https://login.microsoftonline.com
	GraphURL     string // default https://graph.microsoft.com
	Tenant       string
	ClientID     string
	ClientSecret string
	PageSize     int // $top, 1..999, default 999
	Client       *http.Client
}

// Source reads one tenant's users.
type Source struct {
	cfg Config

	tok dirsync.Token // the cached access token
}

var _ dirsync.Source = (*Source)(nil)

// Scope is the scope of the token the source asks for.
const Scope = "https://graph.microsoft.com/.default"

// New returns a source over cfg.
func New(cfg Config) *Source {
	cfg.Platform = cmp.Or(cfg.Platform, "teams")
	cfg.LoginURL = strings.TrimRight(cmp.Or(cfg.LoginURL, "https://login.microsoftonline.com"), "/")
	cfg.GraphURL = strings.TrimRight(cmp.Or(cfg.GraphURL, "https://graph.microsoft.com"), "/")
	cfg.PageSize = cmp.Or(cfg.PageSize, 999)
	if cfg.Client == nil {
		cfg.Client = &http.Client{Timeout: 30 * time.Second}
	}
	return &Source{cfg: cfg}
}

// Platform is the directory key of the accounts.
func (s *Source) Platform() string { return s.cfg.Platform }

// Fetch returns the page at c: the token is Graph's @odata.nextLink,
// which must point at the configured Graph host.
func (s *Source) Fetch(ctx context.Context, c dirsync.Cursor) (dirsync.Page, error) {
	u := s.cfg.GraphURL + "/v1.0/users?" + url.Values{
		"$select": {"id,displayName,mail,userPrincipalName,mobilePhone,department,accountEnabled"},
		"$expand": {"manager($select=id)"},
		"$top":    {strconv.Itoa(s.cfg.PageSize)},
	}.Encode()
	if c.Token != "" {
		if !strings.HasPrefix(c.Token, s.cfg.GraphURL+"/v1.0/users?") {
			return dirsync.Page{}, fmt.Errorf("graph: cursor %q is not a users page of %s", c.Token, s.cfg.GraphURL)
		}
		u = c.Token
	}
	var res struct {
		Value []struct {
			ID             string  `json:"id"`
			DisplayName    string  `json:"displayName"`
			Mail           *string `json:"mail"`
			MobilePhone    *string `json:"mobilePhone"`
			Department     *string `json:"department"`
			AccountEnabled *bool   `json:"accountEnabled"`
			Manager        *struct {
				ID string `json:"id"`
			} `json:"manager"`
		} `json:"value"`
		NextLink string `json:"@odata.nextLink"`
	}
	if err := s.get(ctx, u, &res); err != nil {
		return dirsync.Page{}, fmt.Errorf("graph: list users: %w", err)
	}
	var page dirsync.Page
	known := map[string]bool{}
	for _, d := range c.Depts {
		known[d.ID] = true
	}
	str := func(p *string) string {
		if p == nil {
			return ""
		}
		return *p
	}
	for _, v := range res.Value {
		p := dirsync.Person{ID: v.ID, Name: v.DisplayName, Email: str(v.Mail), Mobile: str(v.MobilePhone),
			Active: v.AccountEnabled == nil || *v.AccountEnabled}
		if d := strings.TrimSpace(str(v.Department)); d != "" {
			p.Depts = []string{d}
			if !known[d] {
				known[d] = true
				page.Depts = append(page.Depts, dirsync.Dept{ID: d, Name: d})
			}
		}
		if v.Manager != nil {
			p.Manager = v.Manager.ID
		}
		page.People = append(page.People, p)
	}
	slices.SortFunc(page.Depts, func(a, b dirsync.Dept) int { return strings.Compare(a.ID, b.ID) })
	if res.NextLink != "" {
		if !strings.HasPrefix(res.NextLink, s.cfg.GraphURL+"/v1.0/users?") {
			return dirsync.Page{}, fmt.Errorf("graph: nextLink %q leaves %s", res.NextLink, s.cfg.GraphURL)
		}
		if res.NextLink == c.Token {
			return dirsync.Page{}, fmt.Errorf("graph: nextLink repeats the page asked for")
		}
	}
	page.Next = res.NextLink
	return page, nil
}

func (s *Source) get(ctx context.Context, u string, out any, hdr ...string) error {
	tok, err := s.accessToken(ctx)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("ConsistencyLevel", "eventual")
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := s.cfg.Client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return fmt.Errorf("read answer: %w", err)
	}
	if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable && resp.Header.Get("Retry-After") != "" {
		secs, _ := strconv.Atoi(resp.Header.Get("Retry-After"))
		return &dirsync.RateLimited{Platform: s.cfg.Platform, After: time.Duration(secs) * time.Second, Detail: fmt.Sprintf("HTTP %d", resp.StatusCode)}
	}
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Error struct {
				Code    string `json:"code"`
				Message string `json:"message"`
			} `json:"error"`
		}
		_ = json.Unmarshal(body, &e)
		if resp.StatusCode == http.StatusUnauthorized {
			s.tok.Forget()
		}
		return fmt.Errorf("HTTP %d %s: %s", resp.StatusCode, e.Error.Code, e.Error.Message)
	}
	if err := json.Unmarshal(body, out); err != nil {
		return fmt.Errorf("decode answer: %w", err)
	}
	return nil
}

func (s *Source) accessToken(ctx context.Context) (string, error) {
	return s.tok.Get(ctx, s.fetchAccessToken)
}

// fetchAccessToken asks the platform for a new token and how long it lives.
func (s *Source) fetchAccessToken(ctx context.Context) (string, time.Duration, error) {
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {s.cfg.ClientID}, "client_secret": {s.cfg.ClientSecret}, "scope": {Scope}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.cfg.LoginURL+"/"+url.PathEscape(s.cfg.Tenant)+"/oauth2/v2.0/token", strings.NewReader(form.Encode()))
	if err != nil {
		return "", 0, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := s.cfg.Client.Do(req)
	if err != nil {
		return "", 0, fmt.Errorf("get token: %w", err)
	}
	defer resp.Body.Close()
	var out struct {
		AccessToken string `json:"access_token"`
		ExpiresIn   int    `json:"expires_in"`
		Error       string `json:"error"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<16)).Decode(&out); err != nil {
		return "", 0, fmt.Errorf("get token: HTTP %d: %w", resp.StatusCode, err)
	}
	if resp.StatusCode != http.StatusOK || out.AccessToken == "" {
		return "", 0, fmt.Errorf("get token: HTTP %d: %s", resp.StatusCode, out.Error)
	}
	return out.AccessToken, time.Duration(out.ExpiresIn) * time.Second, nil
}
