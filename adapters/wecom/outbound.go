package wecom

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/flowbot/flowbot/bots"
)

// tokenCodes mean the access token is invalid or expired: renew once.
var tokenCodes = map[int]bool{40014: true, 42001: true}

// errDuplicateTask is WeCom's answer to a task_id sent before (a retried
// send of the same key).
const errDuplicateTask = 42014

const maxAttempts = 5

// Send delivers msg to a member (UserID; a ChatID is the member's 1:1
// session with the app, the only chat a self-built app's callbacks come
// from) through the member's queue, and returns a reference for Update.
// key makes the send idempotent: a card's task_id derives from it (WeCom
// refuses a second card with the same task_id) and the first send's
// reference is returned again for IdempotencyTTL.
func (a *Adapter) Send(ctx context.Context, to bots.Recipient, msg bots.Message, key string) (string, error) {
	p, err := a.app(to.App)
	if err != nil {
		return "", fmt.Errorf("wecom: send: %w", err)
	}
	user := to.UserID
	if user == "" {
		user = to.ChatID
	}
	if user == "" {
		return "", fmt.Errorf("wecom: send: %w", ErrNoRecipient)
	}
	if msg.Card == nil && msg.Text == "" {
		return "", fmt.Errorf("wecom: send: %w", ErrEmptyMessage)
	}
	if key != "" {
		unlock := a.sent.lock(p.cfg.Name + "|" + key)
		defer unlock()
		if r, ok := a.sent.get(p.cfg.Name + "|" + key); ok {
			return r, nil
		}
	}
	r, err := a.send(ctx, p, user, msg, key)
	if err != nil {
		a.metrics.Sent(p.cfg.Name, "send", "error")
		return "", err
	}
	a.metrics.Sent(p.cfg.Name, "send", "ok")
	if key != "" {
		a.sent.put(p.cfg.Name+"|"+key, r)
	}
	return r, nil
}

func (a *Adapter) send(ctx context.Context, p *app, user string, msg bots.Message, key string) (string, error) {
	if msg.Card != nil {
		task := taskID(p.cfg.Name, key)
		var resp sendResp
		err := a.queue.do(ctx, p.cfg.Name+"|"+user, func() error {
			body, err := RenderSend(p.cfg.AgentID, user, msg, task)
			if err != nil {
				return err
			}
			return a.call(ctx, p, "send card", "/cgi-bin/message/send", body, &resp)
		})
		var apiErr *APIError
		if errors.As(err, &apiErr) && apiErr.ErrCode == errDuplicateTask && key != "" {
			// Sent before this process knew it: no code left to update it.
			err = nil
		}
		if err != nil {
			return "", err
		}
		r := ref{app: p.cfg.Name, user: user, task: task, code: resp.ResponseCode}
		a.cards.add(&cardState{app: p.cfg.Name, user: user, task: task, ref: r.String(), inputs: msg.Card.Inputs,
			codes: codesOf(resp.ResponseCode, a.now())})
		return r.String(), nil
	}
	var first string
	for i, chunk := range splitText(msg.Text, MaxTextBytes) {
		var resp sendResp
		err := a.queue.do(ctx, p.cfg.Name+"|"+user, func() error {
			body, err := RenderSend(p.cfg.AgentID, user, bots.Message{Text: chunk}, "")
			if err != nil {
				return err
			}
			return a.call(ctx, p, "send text", "/cgi-bin/message/send", body, &resp)
		})
		if err != nil {
			return "", err
		}
		if i == 0 {
			first = ref{app: p.cfg.Name, user: user, task: "msg:" + resp.MsgID}.String()
		}
	}
	return first, nil
}

func codesOf(rc string, at time.Time) []code {
	if rc == "" {
		return nil
	}
	return []code{{v: rc, at: at}}
}

// Update replaces a sent card with update_template_card, using the newest
// unused response code of that card (a click's, else its send's). When
// none is left (used, or older than 72 h), or WeCom refuses the code, the
// card is sent again as a new message, and later updates go to the new
// one. Texts cannot be updated.
func (a *Adapter) Update(ctx context.Context, refStr string, msg bots.Message) error {
	r, err := parseRef(refStr)
	if err != nil {
		return fmt.Errorf("wecom: update %q: %w", refStr, err)
	}
	p, err := a.app(r.app)
	if err != nil {
		return fmt.Errorf("wecom: update: %w", err)
	}
	if msg.Card == nil {
		return fmt.Errorf("wecom: update %s: only cards can be updated", refStr)
	}
	if len(r.task) > 4 && r.task[:4] == "msg:" {
		return fmt.Errorf("wecom: update %s: a text: %w", refStr, bots.ErrMessageGone)
	}
	err = a.updateRef(ctx, p, r, msg)
	outcome := "ok"
	if err != nil {
		outcome = "error"
	}
	a.metrics.Sent(p.cfg.Name, "update", outcome)
	return err
}

// updateTask updates the card of task (the clicked one).
func (a *Adapter) updateTask(ctx context.Context, p *app, task string, msg bots.Message) error {
	st := a.cards.byTask(task)
	if st == nil {
		return fmt.Errorf("wecom: update card %s: unknown task", task)
	}
	return a.updateRef(ctx, p, ref{app: p.cfg.Name, user: st.user, task: task}, msg)
}

func (a *Adapter) updateRef(ctx context.Context, p *app, r ref, msg bots.Message) error {
	task, rc, ok := a.cards.take(r, a.now())
	if ok {
		tc, err := RenderCard(*msg.Card, task)
		if err != nil {
			return err
		}
		body, err := json.Marshal(map[string]any{
			"userids": []string{r.user}, "agentid": p.cfg.AgentID, "response_code": rc, "template_card": tc,
		})
		if err != nil {
			return fmt.Errorf("wecom: update card: %w", err)
		}
		err = a.queue.do(ctx, p.cfg.Name+"|"+r.user, func() error {
			return a.call(ctx, p, "update card", "/cgi-bin/message/update_template_card", body, nil)
		})
		var apiErr *APIError
		if err == nil || !errors.As(err, &apiErr) {
			return err
		}
		a.log.Info("response code refused; sending the card again", "app", p.cfg.Name, "task_id", task, "err", err)
	}
	// No code left: send the card again, saying so; later updates go to
	// the new one.
	c := *msg.Card
	c.Note = strings.TrimSpace(OutOfDate + "\n" + c.Note)
	msg.Card = &c
	nr, err := a.send(ctx, p, r.user, msg, "")
	if err != nil {
		return fmt.Errorf("wecom: update card %s by a new message: %w", task, err)
	}
	n, _ := parseRef(nr)
	a.cards.replaced(task, n.task)
	return nil
}

// OutOfDate heads a card sent again because the earlier copy could no
// longer be updated (its response codes used or expired).
const OutOfDate = "上面的卡片已过期，以此为准 / The card above is out of date; this one is current"

// taskID derives a card's task_id from the send's key (random without
// one): at most 128 bytes of [0-9A-Za-z_-@].
func taskID(app, key string) string {
	if key == "" {
		b := make([]byte, 16)
		_, _ = rand.Read(b)
		return "fb-" + hex.EncodeToString(b)
	}
	return "fb-" + hash(app, key)
}

type sendResp struct {
	MsgID        string `json:"msgid"`
	ResponseCode string `json:"response_code"`
	InvalidUser  string `json:"invaliduser"`
}

// apiResp is the common part of WeCom's answers.
type apiResp struct {
	ErrCode int    `json:"errcode"`
	ErrMsg  string `json:"errmsg"`
}

// busyCodes are WeCom's "try later" answers (HTTP 200): -1 system busy,
// 45009 api freq out of limit, 45033 api concurrent out of limit. The
// call backs off and tries again; past its attempts the error goes back
// to the notifier, whose outbox retry waits longer (a minute block).
var busyCodes = map[int]bool{-1: true, 45009: true, 45033: true}

// call POSTs body to path with the app's token: it renews the token once
// on 40014/42001, retries network errors, 5xx answers and busyCodes a few
// times with a doubling backoff, and
// treats errcode ≠ 0 in a 200 answer as an error.
func (a *Adapter) call(ctx context.Context, p *app, op, path string, body []byte, out any) error {
	renewed := false
	backoff := 100 * time.Millisecond
	var last error
	for attempt := 1; attempt <= maxAttempts; attempt++ {
		if attempt > 1 {
			t := time.NewTimer(backoff)
			select {
			case <-t.C:
			case <-ctx.Done():
				t.Stop()
				return fmt.Errorf("wecom: %s: %w (after %v)", op, ctx.Err(), last)
			}
			backoff *= 2
		}
		tok, err := a.token(ctx, p)
		if err != nil {
			return fmt.Errorf("wecom: %s: %w", op, err)
		}
		u := p.cfg.BaseURL + path + "?access_token=" + url.QueryEscape(tok)
		status, raw, err := a.post(ctx, u, body)
		if err != nil {
			last = err
			continue
		}
		if status >= 500 {
			last = &APIError{Op: op, Status: status}
			continue
		}
		var ar apiResp
		if err := json.Unmarshal(raw, &ar); err != nil {
			return fmt.Errorf("wecom: %s: http %d: decode answer: %w", op, status, err)
		}
		if status >= 300 || ar.ErrCode != 0 {
			if busyCodes[ar.ErrCode] {
				// Refused before anything was sent: safe to try again.
				last = &APIError{Op: op, Status: status, ErrCode: ar.ErrCode, ErrMsg: ar.ErrMsg}
				continue
			}
			if tokenCodes[ar.ErrCode] && !renewed {
				renewed = true
				p.dropToken(tok)
				attempt--
				continue
			}
			return &APIError{Op: op, Status: status, ErrCode: ar.ErrCode, ErrMsg: ar.ErrMsg}
		}
		if out != nil {
			if err := json.Unmarshal(raw, out); err != nil {
				return fmt.Errorf("wecom: %s: decode answer: %w", op, err)
			}
		}
		return nil
	}
	return fmt.Errorf("wecom: %s: %w", op, last)
}

func (a *Adapter) post(ctx context.Context, u string, body []byte) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	resp, err := a.client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, raw, err
}

// token returns the app's access token, fetching one when none is cached
// or it is about to expire.
func (a *Adapter) token(ctx context.Context, p *app) (string, error) {
	p.tokMu.Lock()
	defer p.tokMu.Unlock()
	if p.tok != "" && a.now().Before(p.tokExp) {
		return p.tok, nil
	}
	u := p.cfg.BaseURL + "/cgi-bin/gettoken?corpid=" + url.QueryEscape(p.cfg.CorpID) + "&corpsecret=" + url.QueryEscape(p.cfg.Secret)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return "", fmt.Errorf("get token: %w", err)
	}
	resp, err := a.client.Do(req)
	if err != nil {
		return "", fmt.Errorf("get token: %w", err)
	}
	defer resp.Body.Close()
	var body struct {
		apiResp
		Token     string `json:"access_token"`
		ExpiresIn int64  `json:"expires_in"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<16)).Decode(&body); err != nil {
		return "", fmt.Errorf("get token: http %d: decode answer: %w", resp.StatusCode, err)
	}
	if body.ErrCode != 0 || body.Token == "" {
		return "", &APIError{Op: "get token", Status: resp.StatusCode, ErrCode: body.ErrCode, ErrMsg: body.ErrMsg}
	}
	ttl := time.Duration(body.ExpiresIn) * time.Second
	if ttl > 10*time.Minute {
		ttl -= 5 * time.Minute
	} else {
		ttl /= 2
	}
	p.tok, p.tokExp = body.Token, a.now().Add(ttl)
	return p.tok, nil
}

// dropToken forgets tok if it is still the cached token.
func (p *app) dropToken(tok string) {
	p.tokMu.Lock()
	defer p.tokMu.Unlock()
	if p.tok == tok {
		p.tok = ""
	}
}
