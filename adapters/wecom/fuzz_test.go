package wecom_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/flowbot/flowbot/adapters/wecom/wecomtest"
)

// FuzzInbound feeds the XML + crypto decoder arbitrary bodies, both raw
// and encrypted and signed with the app's real key and token: it must
// never panic, and only a 200 or a refusal comes back.
func FuzzInbound(f *testing.F) {
	b := setup(f, setupOpts{})
	now := time.Now()
	f.Add([]byte(wecomtest.TextXML(b.app, "u1", "/help", "1", now)), true)
	f.Add([]byte(wecomtest.ClickXML(b.app, "u1", "fb-1", "_a=approve&task=1", "rc", now)), true)
	f.Add([]byte("<xml><Encrypt>AAAA</Encrypt></xml>"), false)
	f.Add([]byte("<xml><ToUserName><![CDATA[x]]>"), false)
	f.Add([]byte{}, true)
	f.Fuzz(func(t *testing.T, body []byte, seal bool) {
		sig, ts, nonce := "x", "1", "n"
		if seal {
			s, err := wecomtest.Seal(b.app, body, time.Now())
			if err != nil {
				return
			}
			sig, ts, nonce, body = s.Query.Get("msg_signature"), s.Query.Get("timestamp"), s.Query.Get("nonce"), s.Body
		}
		status, _ := b.adapter.Inbound(context.Background(), sig, ts, nonce, body)
		switch status {
		case http.StatusOK, http.StatusBadRequest, http.StatusUnauthorized, http.StatusForbidden, http.StatusInternalServerError:
		default:
			t.Fatalf("unexpected status %d", status)
		}
	})
}

// FuzzVerify feeds the URL check arbitrary echostr values.
func FuzzVerify(f *testing.F) {
	b := setup(f, setupOpts{})
	f.Add("abc", "1", "n", "sig")
	f.Fuzz(func(t *testing.T, echostr, ts, nonce, sig string) {
		_, _ = b.adapter.Verify(sig, ts, nonce, echostr)
	})
}
