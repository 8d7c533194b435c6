package feishu_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/flowbot/flowbot/adapters/feishu"
	"github.com/flowbot/flowbot/adapters/feishu/feishutest"
)

// FuzzInbound feeds arbitrary bodies, plain and sealed, to the webhook
// decoder: it must never panic and must answer with a known status.
func FuzzInbound(f *testing.F) {
	fake := feishutest.NewServer()
	f.Cleanup(fake.Close)
	app := feishu.App{ID: "cli_fuzz", Secret: "s", EncryptKey: "ek", VerificationToken: "vt", BaseURL: fake.URL}
	fake.AddApp(feishutest.App{ID: app.ID, Secret: app.Secret, EncryptKey: app.EncryptKey, VerificationToken: app.VerificationToken})
	plainApp := feishu.App{ID: "cli_fuzz_plain", Secret: "s", VerificationToken: "vt2", BaseURL: fake.URL}
	a, err := feishu.New(feishu.Config{Apps: []feishu.App{app, plainApp}}, &recorderStub{}, feishu.WithLogger(quietLogger()))
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { _ = a.Close() })

	msg := fake.MessageEvent(feishutest.Delivery{App: app.ID, OpenID: "ou_a", ChatID: "oc_1", Text: "/todo"})
	click, _ := fake.ClickEvent(feishutest.Click{App: app.ID, OpenID: "ou_a", MessageID: "om_1", Value: map[string]any{"a": "approve", "v": map[string]any{"t": "1"}}, FormValue: map[string]any{"r": "x"}})
	f.Add(msg, true)
	f.Add(click, true)
	f.Add([]byte(`{"type":"url_verification","challenge":"c","token":"vt2"}`), false)
	f.Add([]byte(`{"schema":"2.0","header":{"app_id":"cli_fuzz_plain","token":"vt2","event_type":"card.action.trigger"},"event":{"action":{"value":"x"}}}`), false)
	f.Add([]byte(`{"encrypt":"AAAA"}`), false)
	f.Fuzz(func(t *testing.T, payload []byte, seal bool) {
		body, hdr := payload, http.Header{}
		if seal {
			var err error
			body, hdr, err = fake.Seal(app.ID, payload, time.Now())
			if err != nil {
				t.Fatal(err)
			}
		}
		status, resp := a.Inbound(context.Background(), hdr, body)
		switch status {
		case http.StatusOK, http.StatusBadRequest, http.StatusUnauthorized, http.StatusForbidden, http.StatusInternalServerError:
		default:
			t.Fatalf("unexpected status %d", status)
		}
		if len(resp) == 0 || resp[0] != '{' {
			t.Fatalf("answer is not a JSON object: %q", resp)
		}
	})
}
