package wecomtest_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/flowbot/flowbot/adapters/adaptertest"
	"github.com/flowbot/flowbot/adapters/wecom"
	"github.com/flowbot/flowbot/adapters/wecom/wecomtest"
)

// The adapter's decoder fuzz targets live here, in a test binary without
// the real bot and SQLite, so that coverage-guided fuzzing runs fast.

func newAdapter(f *testing.F) (*wecom.Adapter, wecomtest.App) {
	app := wecomtest.App{CorpID: "wwfuzz", AgentID: 1000002, Secret: "s", Token: "tok", EncodingAESKey: wecomtest.NewAESKey()}
	a, err := wecom.New(wecom.Config{Apps: []wecom.App{{CorpID: app.CorpID, AgentID: app.AgentID, Secret: app.Secret, Token: app.Token,
		EncodingAESKey: app.EncodingAESKey, BaseURL: "http://127.0.0.1:1"}}}, &adaptertest.Recorder{},
		wecom.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { _ = a.Close() })
	return a, app
}

// FuzzInbound feeds the XML + crypto decoder arbitrary bodies, raw and
// encrypted and signed with the app's real key and token: it never
// panics, and answers 200 or a refusal.
func FuzzInbound(f *testing.F) {
	a, app := newAdapter(f)
	now := time.Now()
	f.Add(wecomtest.TextXML(app, "u1", "/help", "1", now), true)
	f.Add(wecomtest.ClickXML(app, "u1", "fb-1", "_a=approve&task=1", "rc", now), true)
	f.Add([]byte("<xml><Encrypt>AAAA</Encrypt></xml>"), false)
	f.Add([]byte("<xml><ToUserName><![CDATA[x]]>"), false)
	f.Add([]byte{}, true)
	f.Fuzz(func(t *testing.T, body []byte, seal bool) {
		sig, ts, nonce := "x", "1", "n"
		if seal {
			s, err := wecomtest.Seal(app, body, time.Now())
			if err != nil {
				return
			}
			sig, ts, nonce, body = s.Query.Get("msg_signature"), s.Query.Get("timestamp"), s.Query.Get("nonce"), s.Body
		}
		status, _ := a.Inbound(context.Background(), sig, ts, nonce, body)
		switch status {
		case http.StatusOK, http.StatusBadRequest, http.StatusUnauthorized, http.StatusForbidden, http.StatusInternalServerError:
		default:
			t.Fatalf("unexpected status %d", status)
		}
	})
}

// FuzzVerify feeds the URL check arbitrary values.
func FuzzVerify(f *testing.F) {
	a, _ := newAdapter(f)
	f.Add("abc", "1", "n", "sig")
	f.Fuzz(func(t *testing.T, echostr, ts, nonce, sig string) {
		_, _ = a.Verify(sig, ts, nonce, echostr)
	})
}
