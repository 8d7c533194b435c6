package teams

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/flowbot/flowbot/bots"
)

// tokenSource gets and caches the bot's client-credentials token from the
// tenant-specific endpoint.
type tokenSource struct {
	cfg    Config
	client *http.Client
	now    func() time.Time

	mu  sync.Mutex
	tok string
	exp time.Time
}

func (s *tokenSource) token(ctx context.Context) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.tok != "" && s.now().Before(s.exp) {
		return s.tok, nil
	}
	form := url.Values{
		"grant_type":    {"client_credentials"},
		"client_id":     {s.cfg.AppID},
		"client_secret": {s.cfg.AppPassword},
		"scope":         {s.cfg.Scope},
	}
	u := strings.TrimRight(s.cfg.LoginBaseURL, "/") + "/" + url.PathEscape(s.cfg.TenantID) + "/oauth2/v2.0/token"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, strings.NewReader(form.Encode()))
	if err != nil {
		return "", fmt.Errorf("teams: getting a token: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := s.client.Do(req)
	if err != nil {
		return "", fmt.Errorf("teams: getting a token: %w", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	if resp.StatusCode != http.StatusOK {
		return "", &APIError{Op: "get token", Status: resp.StatusCode, Body: string(body)}
	}
	var t struct {
		AccessToken string `json:"access_token"`
		ExpiresIn   int    `json:"expires_in"`
	}
	if err := json.Unmarshal(body, &t); err != nil || t.AccessToken == "" {
		return "", fmt.Errorf("teams: getting a token: malformed answer")
	}
	life := time.Duration(t.ExpiresIn) * time.Second
	// Refresh early: five minutes before the end, or at half life.
	s.tok, s.exp = t.AccessToken, s.now().Add(max(life-5*time.Minute, life/2))
	return s.tok, nil
}

// ref is where a sent activity lives: serviceUrl, conversation, activity.
type ref struct{ svc, conv, id string }

func (r ref) String() string {
	return url.Values{"s": {r.svc}, "c": {r.conv}, "a": {r.id}}.Encode()
}

func parseRef(s string) (ref, error) {
	v, err := url.ParseQuery(s)
	if err != nil {
		return ref{}, fmt.Errorf("teams: %w: %v", ErrBadRef, err)
	}
	r := ref{svc: v.Get("s"), conv: v.Get("c"), id: v.Get("a")}
	if r.svc == "" || r.conv == "" || r.id == "" {
		return ref{}, fmt.Errorf("teams: %w: %q", ErrBadRef, s)
	}
	return r, nil
}

func (a *Adapter) refOf(svc, conv, id string) string {
	if id == "" {
		return ""
	}
	return ref{svc: svc, conv: conv, id: id}.String()
}

// Send delivers msg to a chat (to.ChatID, a conversation the bot has seen)
// or a person (to.UserID: their 1:1 conversation, created when needed) and
// returns a reference Update accepts. A send retried with the same key
// returns the first send's reference and shows nothing again.
func (a *Adapter) Send(ctx context.Context, to bots.Recipient, msg bots.Message, key string) (string, error) {
	if msg.Text == "" && msg.Card == nil {
		return "", fmt.Errorf("teams: sending: %w", ErrEmptyMessage)
	}
	if to.ChatID == "" && to.UserID == "" {
		return "", fmt.Errorf("teams: sending: %w", ErrNoRecipient)
	}
	if key == "" {
		return a.send(ctx, to, msg)
	}
	e, owner := a.sends.claim(key)
	if !owner {
		select {
		case <-e.done:
		case <-ctx.Done():
			return "", fmt.Errorf("teams: sending: %w", ctx.Err())
		}
		if e.ok {
			return e.ref, nil
		}
		return a.Send(ctx, to, msg, key)
	}
	r, err := a.send(ctx, to, msg)
	a.sends.finish(key, e, r, err == nil)
	return r, err
}

func (a *Adapter) send(ctx context.Context, to bots.Recipient, msg bots.Message) (string, error) {
	act, err := a.activity(msg)
	if err != nil {
		return "", err
	}
	conv, svc := to.ChatID, ""
	if conv != "" {
		s, ok := a.refs.service(conv)
		switch {
		case ok:
			svc = s
		case to.UserID != "":
			// Learned by an earlier process (this one restarted since):
			// reach the user's personal conversation anew.
			conv = ""
		default:
			return "", fmt.Errorf("teams: sending to conversation %q: no serviceUrl known (the bot has not heard from it)", conv)
		}
	}
	if conv == "" {
		if c, ok := a.refs.user(to.UserID); ok {
			conv = c
			svc, _ = a.refs.service(c)
		}
		if conv == "" || svc == "" {
			svc = a.cfg.ServiceURL
			conv, err = a.createConversation(ctx, svc, to.UserID)
			if err != nil {
				return "", err
			}
			a.refs.put(conv, svc)
			a.refs.putUser(to.UserID, conv)
		}
	}
	var out struct {
		ID string `json:"id"`
	}
	path := "/v3/conversations/" + url.PathEscape(conv) + "/activities"
	if err := a.call(ctx, "send activity", http.MethodPost, svc, path, act, &out); err != nil {
		return "", err
	}
	if out.ID == "" {
		return "", fmt.Errorf("teams: send activity: answer without id")
	}
	a.sent.Add(1)
	return ref{svc: svc, conv: conv, id: out.ID}.String(), nil
}

// createConversation opens (or finds) the 1:1 conversation with a user.
func (a *Adapter) createConversation(ctx context.Context, svc, user string) (string, error) {
	member := map[string]string{"id": user}
	if !strings.Contains(user, ":") { // an AAD object id
		member = map[string]string{"id": "29:" + user, "aadObjectId": user}
	}
	body := map[string]any{
		"bot":         map[string]string{"id": "28:" + a.cfg.AppID},
		"members":     []any{member},
		"channelData": map[string]any{"tenant": map[string]string{"id": a.cfg.TenantID}},
		"isGroup":     false,
		"tenantId":    a.cfg.TenantID,
	}
	var out struct {
		ID string `json:"id"`
	}
	if err := a.call(ctx, "create conversation", http.MethodPost, svc, "/v3/conversations", body, &out); err != nil {
		return "", err
	}
	if out.ID == "" {
		return "", errors.New("teams: create conversation: answer without id")
	}
	return out.ID, nil
}

// Update replaces a sent message (PUT activity).
func (a *Adapter) Update(ctx context.Context, refStr string, msg bots.Message) error {
	r, err := parseRef(refStr)
	if err != nil {
		return err
	}
	if msg.Text == "" && msg.Card == nil {
		return fmt.Errorf("teams: updating: %w", ErrEmptyMessage)
	}
	act, err := a.activity(msg)
	if err != nil {
		return err
	}
	act["id"] = r.id
	path := "/v3/conversations/" + url.PathEscape(r.conv) + "/activities/" + url.PathEscape(r.id)
	err = a.call(ctx, "update activity", http.MethodPut, r.svc, path, act, nil)
	var ae *APIError
	if errors.As(err, &ae) && (ae.Status == http.StatusNotFound || ae.Status == http.StatusForbidden) {
		return fmt.Errorf("teams: update activity: %w: %w", bots.ErrMessageGone, err)
	}
	if err == nil {
		a.updated.Add(1)
	}
	return err
}

// activity renders msg as a message activity.
func (a *Adapter) activity(msg bots.Message) (map[string]any, error) {
	act := map[string]any{"type": "message"}
	if msg.Card != nil {
		card, err := renderCardMap(*msg.Card)
		if err != nil {
			return nil, err
		}
		act["attachments"] = []any{map[string]any{"contentType": typeCard, "content": card}}
		if msg.Text != "" {
			act["text"] = msg.Text
		}
		return act, nil
	}
	act["text"] = msg.Text
	act["textFormat"] = "plain"
	return act, nil
}

// call makes one Connector call, retrying 429/412/502/503/504 with Retry-After
// or exponential backoff with jitter.
func (a *Adapter) call(ctx context.Context, op, method, svc, path string, in, out any) error {
	var body []byte
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("teams: %s: %w", op, err)
		}
		body = b
	}
	u := strings.TrimRight(svc, "/") + path
	for attempt := 0; ; attempt++ {
		tok, err := a.tok.token(ctx)
		if err != nil {
			return err
		}
		var rd io.Reader
		if body != nil {
			rd = bytes.NewReader(body)
		}
		req, err := http.NewRequestWithContext(ctx, method, u, rd)
		if err != nil {
			return fmt.Errorf("teams: %s: %w", op, err)
		}
		req.Header.Set("Authorization", "Bearer "+tok)
		if body != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		resp, err := a.client.Do(req)
		if err != nil {
			return fmt.Errorf("teams: %s: %w", op, err)
		}
		rb, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		resp.Body.Close()
		if resp.StatusCode >= 200 && resp.StatusCode < 300 {
			if out != nil && len(rb) > 0 {
				if err := json.Unmarshal(rb, out); err != nil {
					return fmt.Errorf("teams: %s: decoding answer: %w", op, err)
				}
			}
			return nil
		}
		apiErr := &APIError{Op: op, Status: resp.StatusCode, Body: string(rb)}
		switch resp.StatusCode {
		case http.StatusTooManyRequests, http.StatusPreconditionFailed, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		default:
			return apiErr
		}
		if attempt >= a.cfg.MaxRetries {
			return apiErr
		}
		wait := time.Duration(100<<attempt)*time.Millisecond + time.Duration(rand.Int64N(int64(50*time.Millisecond)))
		if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s >= 0 {
			wait = time.Duration(s) * time.Second
		}
		wait = min(wait, a.cfg.RetryMax)
		a.retried.Add(1)
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("teams: %s: %w", op, ctx.Err())
		case <-a.done:
			t.Stop()
			return fmt.Errorf("teams: %s: adapter closed: %w", op, apiErr)
		}
	}
}
