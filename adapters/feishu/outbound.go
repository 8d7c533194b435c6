package feishu

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"

	larkcore "github.com/larksuite/oapi-sdk-go/v3/core"
	larkauth "github.com/larksuite/oapi-sdk-go/v3/service/auth/v3"
	larkim "github.com/larksuite/oapi-sdk-go/v3/service/im/v1"

	"github.com/flowbot/flowbot/bots"
)

// refSep separates the app id and the message id in a message reference.
const refSep = ":"

// Feishu codes the adapter reacts to.
var (
	// tokenCodes mean the tenant token is missing, invalid or expired.
	tokenCodes = map[int]bool{99991661: true, 99991663: true, 99991664: true, 99991665: true, 99991668: true, 99991671: true}
	// rateCodes mean "too many requests".
	rateCodes = map[int]bool{99991400: true, 230020: true, 11232: true}
)

const maxAttempts = 30

// Send delivers msg to a user (open_id) or a chat and returns a reference
// "<app id>:<message id>" for Update. key becomes Feishu's uuid, so a
// retried send within an hour is not shown twice.
func (a *Adapter) Send(ctx context.Context, to bots.Recipient, msg bots.Message, key string) (string, error) {
	p, err := a.app(to.App)
	if err != nil {
		return "", fmt.Errorf("feishu: send: %w", err)
	}
	idType, id := "open_id", to.UserID
	if to.ChatID != "" {
		idType, id = "chat_id", to.ChatID
	}
	if id == "" {
		return "", fmt.Errorf("feishu: send: %w", ErrNoRecipient)
	}
	msg = a.withImage(ctx, p, msg)
	msgType, content, err := renderMessage(msg)
	if err != nil {
		return "", err
	}
	body := larkim.NewCreateMessageReqBodyBuilder().ReceiveId(id).MsgType(msgType).Content(content)
	if key != "" {
		body.Uuid(uuidFor(key))
	}
	req := larkim.NewCreateMessageReqBuilder().ReceiveIdType(idType).Body(body.Build()).Build()
	var msgID, chatID string
	err = a.call(ctx, p, "send message", p.limits.chatKey(idType, id), func(ctx context.Context, opt larkcore.RequestOptionFunc) (*larkcore.ApiResp, larkcore.CodeError, error) {
		resp, err := p.client.Im.Message.Create(ctx, req, opt)
		if err != nil {
			return nil, larkcore.CodeError{}, err
		}
		if resp.Data != nil {
			msgID, chatID = deref(resp.Data.MessageId), deref(resp.Data.ChatId)
		}
		return resp.ApiResp, resp.CodeError, nil
	})
	if err != nil {
		return "", err
	}
	if msgID == "" {
		return "", fmt.Errorf("feishu: send message: answer without message_id")
	}
	if idType == "open_id" {
		p.limits.learnP2P(id, chatID)
	}
	return p.cfg.ID + refSep + msgID, nil
}

// Update replaces a sent card (PATCH message). Text messages cannot be
// updated on Feishu.
func (a *Adapter) Update(ctx context.Context, ref string, msg bots.Message) error {
	appID, msgID, ok := strings.Cut(ref, refSep)
	if !ok || appID == "" || msgID == "" {
		return fmt.Errorf("feishu: update %q: %w", ref, ErrBadRef)
	}
	p, err := a.app(appID)
	if err != nil {
		return fmt.Errorf("feishu: update: %w", err)
	}
	if msg.Card == nil {
		return fmt.Errorf("feishu: update %s: only cards can be updated", ref)
	}
	msg = a.withImage(ctx, p, msg)
	_, content, err := renderMessage(msg)
	if err != nil {
		return err
	}
	req := larkim.NewPatchMessageReqBuilder().MessageId(msgID).
		Body(larkim.NewPatchMessageReqBodyBuilder().Content(content).Build()).Build()
	err = a.call(ctx, p, "update message", "msg:"+msgID, func(ctx context.Context, opt larkcore.RequestOptionFunc) (*larkcore.ApiResp, larkcore.CodeError, error) {
		resp, err := p.client.Im.Message.Patch(ctx, req, opt)
		if err != nil {
			return nil, larkcore.CodeError{}, err
		}
		return resp.ApiResp, resp.CodeError, nil
	})
	var apiErr *APIError
	if errors.As(err, &apiErr) && goneCodes[apiErr.Code] {
		return fmt.Errorf("feishu: update %s: %w: %w", ref, bots.ErrMessageGone, err)
	}
	return err
}

// goneCodes are Feishu's answers for a message that can no longer be
// updated: not found (deleted, or not this app's), and recalled.
// UNVERIFIED beyond 230001, which a deleted or foreign copy answers.
var goneCodes = map[int]bool{230001: true, 230011: true}

// delayedUpdate replaces a clicked card with the click's token (valid 30
// minutes, twice), for clicks the bot answered after the deadline.
func (a *Adapter) delayedUpdate(ctx context.Context, p *app, token string, c bots.Card) error {
	card, err := RenderCard(c)
	if err != nil {
		return err
	}
	body := map[string]any{"token": token, "card": json.RawMessage(card)}
	return a.call(ctx, p, "delayed card update", "", func(ctx context.Context, opt larkcore.RequestOptionFunc) (*larkcore.ApiResp, larkcore.CodeError, error) {
		resp, err := p.client.Post(ctx, "/open-apis/interactive/v1/card/update", body, larkcore.AccessTokenTypeTenant, opt)
		if err != nil {
			return nil, larkcore.CodeError{}, err
		}
		var ce larkcore.CodeError
		if strings.Contains(resp.Header.Get("Content-Type"), "json") {
			_ = json.Unmarshal(resp.RawBody, &ce)
		}
		return resp, ce, nil
	})
}

// call runs one API request with the app's token, waiting for the rate
// limiters, renewing the token once when Feishu says it expired, and
// backing off until ctx ends on rate-limit answers, 5xx answers and
// network errors (safe: sends carry a uuid, updates replace the content).
// chat is the per-chat limiter key ("" for none).
func (a *Adapter) call(ctx context.Context, p *app, op, chat string,
	do func(ctx context.Context, opt larkcore.RequestOptionFunc) (*larkcore.ApiResp, larkcore.CodeError, error),
) error {
	renewed := false
	backoff := a.cfg.Rate.BackoffMin
	var last error
	for attempt := 1; ; attempt++ {
		if attempt > 1 {
			// wait is the backoff of the previous attempt's failure.
			wait := backoff + rand.N(backoff/2+1)
			var rl *rateLimited
			if errors.As(last, &rl) && rl.reset >= 0 {
				wait = rl.reset + rand.N(a.cfg.Rate.BackoffMin+1)
			}
			backoff = min(backoff*2, a.cfg.Rate.BackoffMax)
			a.log.Debug("retry", "app", p.cfg.ID, "op", op, "attempt", attempt, "wait", wait, "err", last)
			if err := sleep(ctx, wait); err != nil {
				return fmt.Errorf("feishu: %s: back off after %v: %w", op, last, err)
			}
		}
		if err := p.limits.wait(ctx, time.Now, chat); err != nil {
			return fmt.Errorf("feishu: %s: wait for rate limit: %w", op, err)
		}
		tok, err := a.token(ctx, p)
		if err != nil {
			var apiErr *APIError
			if ctx.Err() == nil && attempt < maxAttempts && !(errors.As(err, &apiErr) && apiErr.Status < 500) {
				last = err
				continue // network error or 5xx of the token endpoint
			}
			return fmt.Errorf("feishu: %s: %w", op, ctxErr(ctx, err))
		}
		resp, ce, err := do(ctx, larkcore.WithTenantAccessToken(tok))
		if err != nil {
			// A network error, a timeout, or an answer that is not Feishu's
			// JSON (a gateway's 502 page, a bare 429): all transient.
			if ctx.Err() == nil && attempt < maxAttempts {
				last = err
				continue
			}
			return fmt.Errorf("feishu: %s: %w", op, ctxErr(ctx, err))
		}
		status := 0
		if resp != nil {
			status = resp.StatusCode
		}
		apiErr := &APIError{Op: op, Status: status, Code: ce.Code, Msg: ce.Msg}
		switch {
		case ce.Code == 0 && status < 300:
			return nil
		case tokenCodes[ce.Code] && !renewed:
			renewed = true
			p.dropToken(tok)
			continue
		case (status == http.StatusTooManyRequests || rateCodes[ce.Code]) && attempt < maxAttempts:
			rl := &rateLimited{APIError: apiErr, reset: -1}
			if s, err := strconv.Atoi(resp.Header.Get("x-ogw-ratelimit-reset")); err == nil && s >= 0 {
				rl.reset = time.Duration(s) * time.Second
			}
			last = rl
			continue
		case status >= 500 && attempt < maxAttempts:
			last = apiErr
			continue
		}
		return apiErr
	}
}

// rateLimited is a rate-limit answer; reset is Feishu's
// x-ogw-ratelimit-reset (-1 when absent).
type rateLimited struct {
	*APIError
	reset time.Duration
}

// ctxErr prefers the context's error: the SDK flattens it into text.
func ctxErr(ctx context.Context, err error) error {
	if ce := ctx.Err(); ce != nil && !errors.Is(err, ce) {
		return fmt.Errorf("%w (%v)", ce, err)
	}
	return err
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// token returns the app's tenant token, fetching one when none is cached
// or the cached one is about to expire.
func (a *Adapter) token(ctx context.Context, p *app) (string, error) {
	p.tokMu.Lock()
	defer p.tokMu.Unlock()
	if p.tok != "" && a.now().Before(p.tokExp) {
		return p.tok, nil
	}
	req := larkauth.NewInternalTenantAccessTokenReqBuilder().
		Body(larkauth.NewInternalTenantAccessTokenReqBodyBuilder().AppId(p.cfg.ID).AppSecret(p.cfg.Secret).Build()).Build()
	resp, err := p.client.Auth.V3.TenantAccessToken.Internal(ctx, req)
	if err != nil {
		return "", fmt.Errorf("get tenant token: %w", err)
	}
	var body struct {
		Code   int    `json:"code"`
		Msg    string `json:"msg"`
		Token  string `json:"tenant_access_token"`
		Expire int    `json:"expire"`
	}
	if resp.ApiResp == nil || json.Unmarshal(resp.RawBody, &body) != nil {
		return "", errors.New("get tenant token: malformed answer")
	}
	if body.Code != 0 || body.Token == "" {
		return "", fmt.Errorf("get tenant token: %w", &APIError{Op: "get tenant token", Status: resp.StatusCode, Code: body.Code, Msg: body.Msg})
	}
	ttl := time.Duration(body.Expire) * time.Second
	if ttl > 6*time.Minute {
		ttl -= 3 * time.Minute
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

// uuidFor derives Feishu's uuid (at most 50 characters) from a key.
func uuidFor(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:16])
}
