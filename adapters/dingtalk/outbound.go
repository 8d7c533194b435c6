package dingtalk

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/flowbot/flowbot/bots"
)

// APIError is an error answer of DingTalk's OpenAPI: an HTTP error status
// or an errcode ≠ 0 inside a 200 answer.
type APIError struct {
	Status  int
	Code    string
	Message string
}

func (e *APIError) Error() string {
	return fmt.Sprintf("dingtalk api: status %d code %s: %s", e.Status, e.Code, e.Message)
}

// rateLimited reports whether the answer asks the caller to slow down.
func (e *APIError) rateLimited() bool {
	return e.Status == http.StatusTooManyRequests || e.Code == "130101" || e.Code == "90018" ||
		strings.Contains(e.Code, "QpsLimit") || strings.Contains(e.Code, "Throttling")
}

// errFlowControlled says some users of a 1:1 send were flow-controlled.
var errFlowControlled = errors.New("dingtalk: users flow-controlled")

// checkAnswer reads an OpenAPI answer: HTTP errors and errcode ≠ 0 are
// APIErrors; out, when set, receives the body.
func checkAnswer(resp *http.Response, out any) error {
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return fmt.Errorf("read answer: %w", err)
	}
	var e struct {
		Code    any    `json:"code"`
		Message string `json:"message"`
		ErrCode *int   `json:"errcode"`
		ErrMsg  string `json:"errmsg"`
	}
	_ = json.Unmarshal(body, &e)
	if resp.StatusCode >= 300 {
		return &APIError{Status: resp.StatusCode, Code: fmt.Sprint(e.Code), Message: e.Message}
	}
	if e.ErrCode != nil && *e.ErrCode != 0 {
		return &APIError{Status: resp.StatusCode, Code: fmt.Sprint(*e.ErrCode), Message: e.ErrMsg}
	}
	if out != nil && len(body) > 0 {
		if err := json.Unmarshal(body, out); err != nil {
			return fmt.Errorf("decode answer: %w", err)
		}
	}
	return nil
}

// token returns the app's access token, fetching it when absent or about
// to expire.
func (a *Adapter) token(ctx context.Context, p *app) (string, error) {
	p.tokMu.Lock()
	defer p.tokMu.Unlock()
	if p.tok != "" && a.now().Before(p.tokExp) {
		return p.tok, nil
	}
	body, _ := json.Marshal(map[string]string{"appKey": p.cfg.Key, "appSecret": p.cfg.Secret})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.cfg.BaseURL+"/v1.0/oauth2/accessToken", bytes.NewReader(body))
	if err != nil {
		return "", fmt.Errorf("dingtalk: get token: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := a.client.Do(req)
	if err != nil {
		return "", fmt.Errorf("dingtalk: get token: %w", err)
	}
	defer resp.Body.Close()
	var out struct {
		AccessToken string `json:"accessToken"`
		ExpireIn    int64  `json:"expireIn"`
	}
	if err := checkAnswer(resp, &out); err != nil {
		return "", fmt.Errorf("dingtalk: get token: %w", err)
	}
	if out.AccessToken == "" {
		return "", errors.New("dingtalk: get token: answer without accessToken")
	}
	p.tok = out.AccessToken
	// Renew a minute early (or halfway for short-lived tokens).
	life := time.Duration(out.ExpireIn) * time.Second
	p.tokExp = a.now().Add(max(life-time.Minute, life/2))
	return p.tok, nil
}

func (p *app) dropToken() {
	p.tokMu.Lock()
	p.tok = ""
	p.tokMu.Unlock()
}

// call does one OpenAPI call with the app's token, renewing an expired
// token once and backing off on rate limits and 5xx answers.
func (a *Adapter) call(ctx context.Context, p *app, what, method, path string, in, out any) error {
	body, err := json.Marshal(in)
	if err != nil {
		return fmt.Errorf("dingtalk: %s: %w", what, err)
	}
	wait := a.cfg.RetryBase
	renewed := false
	for attempt := 0; ; attempt++ {
		err := a.callOnce(ctx, p, method, path, body, out)
		var ae *APIError
		switch {
		case err == nil:
			return nil
		case errors.As(err, &ae) && ae.Status == http.StatusUnauthorized && !renewed:
			p.dropToken()
			renewed = true
			continue
		case errors.As(err, &ae) && (ae.rateLimited() || ae.Status >= 500) && attempt < a.cfg.SendRetries:
			// A rate limit or the gateway in trouble: nothing was done.
			if werr := sleep(ctx, wait); werr != nil {
				return fmt.Errorf("dingtalk: %s: %w", what, err)
			}
			wait *= 2
			continue
		}
		return fmt.Errorf("dingtalk: %s: %w", what, err)
	}
}

func (a *Adapter) callOnce(ctx context.Context, p *app, method, path string, body []byte, out any) error {
	tok, err := a.token(ctx, p)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, method, p.cfg.BaseURL+path, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("x-acs-dingtalk-access-token", tok)
	resp, err := a.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	return checkAnswer(resp, out)
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Send delivers msg to a user (1:1) or a group (ChatID, an
// openConversationId). A card goes out with createAndDeliver (its
// outTrackId derived from key, so that DingTalk itself refuses a second
// card of the same key), a text as robot markdown split below the length
// limit. A send retried with the same key returns the first ref.
func (a *Adapter) Send(ctx context.Context, to bots.Recipient, msg bots.Message, key string) (string, error) {
	p, err := a.app(to.App)
	if err != nil {
		return "", err
	}
	if to.UserID == "" && to.ChatID == "" {
		return "", errors.New("dingtalk: send: recipient without user or chat")
	}
	if key != "" {
		ck := p.cfg.Key + "\x00" + key
		unlock := a.sent.lock(ck)
		defer unlock()
		if ref, ok := a.sent.get(ck); ok {
			return ref, nil
		}
		ref, err := a.send(ctx, p, to, msg, key)
		if err == nil {
			a.sent.put(ck, ref)
		}
		return ref, err
	}
	return a.send(ctx, p, to, msg, key)
}

func (a *Adapter) send(ctx context.Context, p *app, to bots.Recipient, msg bots.Message, key string) (string, error) {
	var ref string
	var err error
	if msg.Card != nil && !p.cfg.TextOnly {
		ref, err = a.sendCard(ctx, p, to, *msg.Card, key)
	} else {
		text := msg.Text
		if msg.Card != nil {
			text = RenderText(*msg.Card)
		}
		ref, err = a.sendText(ctx, p, to, text)
	}
	if err != nil {
		a.metrics.Inc(p.cfg.Key, "send_failure")
		return "", err
	}
	a.metrics.Inc(p.cfg.Key, "send")
	return ref, nil
}

func outTrackID(app, key string) string {
	if key == "" {
		b := make([]byte, 12)
		_, _ = rand.Read(b)
		return "fb-" + hex.EncodeToString(b)
	}
	sum := sha256.Sum256([]byte(app + "\x00" + key))
	return "fb-" + hex.EncodeToString(sum[:12])
}

func (a *Adapter) sendCard(ctx context.Context, p *app, to bots.Recipient, c bots.Card, key string) (string, error) {
	track := outTrackID(p.cfg.Key, key)
	req := map[string]any{
		"cardTemplateId": p.cfg.CardTemplateID,
		"outTrackId":     track,
		"callbackType":   "STREAM",
		"cardData":       map[string]any{"cardParamMap": cardParams(c, p.cfg.Secret)},
		"userIdType":     1,
	}
	if to.ChatID != "" {
		req["openSpaceId"] = "dtv1.card//IM_GROUP." + to.ChatID
		req["imGroupOpenSpaceModel"] = map[string]any{"supportForward": true}
		req["imGroupOpenDeliverModel"] = map[string]any{"robotCode": p.cfg.RobotCode}
	} else {
		req["openSpaceId"] = "dtv1.card//IM_ROBOT." + to.UserID
		req["imRobotOpenSpaceModel"] = map[string]any{"supportForward": true}
		req["imRobotOpenDeliverModel"] = map[string]any{"spaceType": "IM_ROBOT", "robotCode": p.cfg.RobotCode}
	}
	if p.cfg.Mode == ModeHTTP {
		req["callbackType"] = "HTTP"
	}
	var out struct {
		Success bool `json:"success"`
		Result  struct {
			DeliverResults []struct {
				SpaceID  string `json:"spaceId"`
				Success  bool   `json:"success"`
				ErrorMsg string `json:"errorMsg"`
			} `json:"deliverResults"`
		} `json:"result"`
	}
	err := a.call(ctx, p, "create and deliver card", http.MethodPost, "/v1.0/card/instances/createAndDeliver", req, &out)
	var ae *APIError
	if errors.As(err, &ae) && strings.Contains(ae.Code, "AlreadyExist") {
		// The outTrackId comes from the idempotency key: an earlier
		// attempt (another process, before a crash) delivered it.
		return p.cfg.Key + "/" + track, nil
	}
	if err != nil {
		return "", err
	}
	for _, d := range out.Result.DeliverResults {
		if !d.Success {
			return "", fmt.Errorf("dingtalk: deliver card to %s: %s", d.SpaceID, d.ErrorMsg)
		}
	}
	return p.cfg.Key + "/" + track, nil
}

func (a *Adapter) sendText(ctx context.Context, p *app, to bots.Recipient, text string) (string, error) {
	var ref string
	for _, chunk := range split(text, a.cfg.MaxTextRunes) {
		param, _ := json.Marshal(map[string]string{"title": firstLine(chunk), "text": chunk})
		if to.ChatID != "" {
			var out struct {
				ProcessQueryKey string `json:"processQueryKey"`
			}
			err := a.call(ctx, p, "send group message", http.MethodPost, "/v1.0/robot/groupMessages/send", map[string]string{
				"robotCode": p.cfg.RobotCode, "openConversationId": to.ChatID, "msgKey": "sampleMarkdown", "msgParam": string(param),
			}, &out)
			if err != nil {
				return "", err
			}
			ref = cmpOr(ref, p.cfg.Key+"/text/"+out.ProcessQueryKey)
			continue
		}
		key, err := a.batchSend(ctx, p, to.UserID, string(param))
		if err != nil {
			return "", err
		}
		ref = cmpOr(ref, p.cfg.Key+"/text/"+key)
	}
	return ref, nil
}

// batchSend sends one 1:1 message, retrying while the user is in
// flowControlledStaffIdList.
func (a *Adapter) batchSend(ctx context.Context, p *app, user, param string) (string, error) {
	wait := a.cfg.RetryBase
	for attempt := 0; ; attempt++ {
		var out struct {
			ProcessQueryKey           string   `json:"processQueryKey"`
			InvalidStaffIDList        []string `json:"invalidStaffIdList"`
			FlowControlledStaffIDList []string `json:"flowControlledStaffIdList"`
		}
		err := a.call(ctx, p, "send 1:1 message", http.MethodPost, "/v1.0/robot/oToMessages/batchSend", map[string]any{
			"robotCode": p.cfg.RobotCode, "userIds": []string{user}, "msgKey": "sampleMarkdown", "msgParam": param,
		}, &out)
		if err != nil {
			return "", err
		}
		if len(out.InvalidStaffIDList) > 0 {
			return "", fmt.Errorf("dingtalk: send 1:1 message: invalid user %s", user)
		}
		if len(out.FlowControlledStaffIDList) == 0 {
			return out.ProcessQueryKey, nil
		}
		if attempt >= a.cfg.SendRetries {
			return "", fmt.Errorf("dingtalk: send 1:1 message to %s: %w", user, errFlowControlled)
		}
		if err := sleep(ctx, wait); err != nil {
			return "", fmt.Errorf("dingtalk: send 1:1 message: %w", err)
		}
		wait *= 2
	}
}

func firstLine(s string) string {
	s = strings.TrimLeft(s, "# ")
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return cut(s, 60)
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// Update replaces a card's data on every copy (PUT /v1.0/card/instances).
// Robot texts cannot be edited: their refs give ErrMessageGone.
func (a *Adapter) Update(ctx context.Context, ref string, msg bots.Message) error {
	appKey, track, ok := strings.Cut(ref, "/")
	if !ok {
		return fmt.Errorf("dingtalk: update %q: bad ref: %w", ref, bots.ErrMessageGone)
	}
	p, err := a.app(appKey)
	if err != nil {
		return err
	}
	if strings.HasPrefix(track, "text/") || msg.Card == nil || p.cfg.TextOnly {
		return fmt.Errorf("dingtalk: update %s: robot texts cannot be edited: %w", ref, bots.ErrMessageGone)
	}
	err = a.call(ctx, p, "update card", http.MethodPut, "/v1.0/card/instances", map[string]any{
		"outTrackId":        track,
		"cardData":          map[string]any{"cardParamMap": cardParams(*msg.Card, p.cfg.Secret)},
		"cardUpdateOptions": map[string]bool{"updateCardDataByKey": true},
		"userIdType":        1,
	}, nil)
	var ae *APIError
	if errors.As(err, &ae) && (ae.Status == http.StatusNotFound || strings.Contains(ae.Code, "NotExist") || strings.Contains(ae.Code, "notFound")) {
		return fmt.Errorf("%w: %w", err, bots.ErrMessageGone)
	}
	if err != nil {
		a.metrics.Inc(p.cfg.Key, "send_failure")
		return err
	}
	a.metrics.Inc(p.cfg.Key, "send")
	return nil
}
