package wecomtest

import (
	"context"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/silenceper/wechat/v2/util"
)

// Response is the adapter's answer to a callback.
type Response struct {
	Status int
	Body   string
}

// Sealed is a callback as WeCom sends it: the query and the XML body.
type Sealed struct {
	Query url.Values
	Body  []byte
	// Encrypt is the ciphertext inside the body.
	Encrypt string
}

// Seal encrypts plain (the message XML) for a as WeCom does (SDK
// EncryptMsg with the corp id as receiveid) and signs it at ts.
func Seal(a App, plain []byte, ts time.Time) (Sealed, error) {
	enc, err := util.EncryptMsg([]byte(randHex(8)), plain, a.CorpID, a.EncodingAESKey)
	if err != nil {
		return Sealed{}, fmt.Errorf("wecomtest: encrypt: %w", err)
	}
	return SealCiphertext(a, string(enc), ts), nil
}

// SealCiphertext wraps and signs an already encrypted message.
func SealCiphertext(a App, enc string, ts time.Time) Sealed {
	tsS, nonce := strconv.FormatInt(ts.Unix(), 10), randHex(5)
	body := fmt.Sprintf("<xml><ToUserName><![CDATA[%s]]></ToUserName><AgentID><![CDATA[%d]]></AgentID><Encrypt><![CDATA[%s]]></Encrypt></xml>", a.CorpID, a.AgentID, enc)
	q := url.Values{"msg_signature": {util.Signature(a.Token, tsS, nonce, enc)}, "timestamp": {tsS}, "nonce": {nonce}}
	return Sealed{Query: q, Body: []byte(body), Encrypt: enc}
}

// Post POSTs a sealed callback to the app's webhook.
func Post(ctx context.Context, webhook string, s Sealed) (Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, webhook+"?"+s.Query.Encode(), strings.NewReader(string(s.Body)))
	if err != nil {
		return Response{}, err
	}
	req.Header.Set("Content-Type", "text/xml")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return Response{}, fmt.Errorf("wecomtest: post callback: %w", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return Response{Status: resp.StatusCode, Body: string(b)}, nil
}

// VerifyURL runs WeCom's URL check against the webhook and returns the
// answer, which must be echo.
func VerifyURL(ctx context.Context, a App, echo string) (Response, error) {
	enc, err := util.EncryptMsg([]byte(randHex(8)), []byte(echo), a.CorpID, a.EncodingAESKey)
	if err != nil {
		return Response{}, err
	}
	ts, nonce := strconv.FormatInt(time.Now().Unix(), 10), randHex(5)
	q := url.Values{"msg_signature": {util.Signature(a.Token, ts, nonce, string(enc))}, "timestamp": {ts}, "nonce": {nonce}, "echostr": {string(enc)}}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, a.Webhook+"?"+q.Encode(), nil)
	if err != nil {
		return Response{}, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return Response{}, err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return Response{Status: resp.StatusCode, Body: string(b)}, nil
}

type cdata struct {
	V string `xml:",cdata"`
}

// TextXML is the plaintext XML of a text message.
func TextXML(a App, user, text, msgID string, at time.Time) []byte {
	b, _ := xml.Marshal(struct {
		XMLName      xml.Name `xml:"xml"`
		ToUserName   cdata
		FromUserName cdata
		CreateTime   int64
		MsgType      cdata
		Content      cdata
		MsgId        string
		AgentID      int64
	}{ToUserName: cdata{a.CorpID}, FromUserName: cdata{user}, CreateTime: at.Unix(), MsgType: cdata{"text"},
		Content: cdata{text}, MsgId: msgID, AgentID: a.AgentID})
	return b
}

// ClickXML is the plaintext XML of a template_card_event.
func ClickXML(a App, user, taskID, key, responseCode string, at time.Time) []byte {
	b, _ := xml.Marshal(struct {
		XMLName      xml.Name `xml:"xml"`
		ToUserName   cdata
		FromUserName cdata
		CreateTime   int64
		MsgType      cdata
		Event        cdata
		EventKey     cdata
		TaskId       cdata
		CardType     cdata
		ResponseCode cdata
		AgentID      int64
	}{ToUserName: cdata{a.CorpID}, FromUserName: cdata{user}, CreateTime: at.Unix(), MsgType: cdata{"event"},
		Event: cdata{"template_card_event"}, EventKey: cdata{key}, TaskId: cdata{taskID}, CardType: cdata{"button_interaction"},
		ResponseCode: cdata{responseCode}, AgentID: a.AgentID})
	return b
}

// app looks up a registered app.
func (s *Server) app(corp string, agent int64) (App, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.apps[appKey(corp, agent)]
	if !ok {
		return App{}, fmt.Errorf("wecomtest: unknown app %s:%d", corp, agent)
	}
	return a, nil
}

// SendText delivers a text message from user to the app's webhook.
func (s *Server) SendText(ctx context.Context, corp string, agent int64, user, text string) (Response, error) {
	a, err := s.app(corp, agent)
	if err != nil {
		return Response{}, err
	}
	sealed, err := Seal(a, TextXML(a, user, text, randDigits(), time.Now()), time.Now())
	if err != nil {
		return Response{}, err
	}
	return Post(ctx, a.Webhook, sealed)
}

// Click clicks the button with key on the card task_id as user: the fake
// issues the click's response code (usable once by update_template_card)
// and delivers the event.
func (s *Server) Click(ctx context.Context, corp string, agent int64, user, taskID, key string) (Response, error) {
	a, err := s.app(corp, agent)
	if err != nil {
		return Response{}, err
	}
	s.mu.Lock()
	m, ok := s.tasks[appKey(corp, agent)+":"+taskID]
	var rc string
	if ok {
		rc = s.issueCode(m, user)
	}
	s.mu.Unlock()
	if !ok {
		return Response{}, fmt.Errorf("wecomtest: no card with task_id %s", taskID)
	}
	sealed, err := Seal(a, ClickXML(a, user, taskID, key, rc, time.Now()), time.Now())
	if err != nil {
		return Response{}, err
	}
	return Post(ctx, a.Webhook, sealed)
}

// IssueCode issues a click response code for the card task_id (for
// callbacks built by hand).
func (s *Server) IssueCode(corp string, agent int64, taskID, user string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, ok := s.tasks[appKey(corp, agent)+":"+taskID]
	if !ok {
		return "", false
	}
	return s.issueCode(m, user), true
}

var msgSeq atomic.Int64

func randDigits() string {
	return strconv.FormatInt(7_000_000_000_000_000+msgSeq.Add(1)*1000+time.Now().UnixNano()%1000, 10)
}
