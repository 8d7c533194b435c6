package webhooks_test

import (
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/flowbot/flowbot/webhooks"
)

// FuzzVerify: the receiver check of docs/WEBHOOKS.md and webhooks.Verify
// never panic, agree with each other, and accept only a body signed with
// the secret at a timestamp inside the window.
func FuzzVerify(f *testing.F) {
	now := time.Unix(1796374800, 0)
	ts := strconv.FormatInt(now.Unix(), 10)
	body := []byte(`{"id":"1","type":"request.approved"}`)
	f.Add(ts, webhooks.Sign(secret, ts, body), body)
	f.Add(ts, "sha256=", body)
	f.Add("", "", []byte{})
	f.Add("-9223372036854775808", "sha256=00", []byte("x"))
	f.Add(ts+"0", webhooks.Sign(secret, ts+"0", body), body)
	f.Fuzz(func(t *testing.T, ts, sig string, body []byte) {
		h := http.Header{}
		h.Set(webhooks.HeaderTimestamp, ts)
		h.Set(webhooks.HeaderSignature, sig)
		docErr := verifyFlowbot(h, body, secret, now)
		libErr := webhooks.Verify(secret, h.Get(webhooks.HeaderTimestamp), h.Get(webhooks.HeaderSignature), body, now, 5*time.Minute)
		if (docErr == nil) != (libErr == nil) {
			t.Fatalf("doc example says %v, webhooks.Verify says %v", docErr, libErr)
		}
		if docErr == nil {
			if h.Get(webhooks.HeaderSignature) != webhooks.Sign(secret, h.Get(webhooks.HeaderTimestamp), body) {
				t.Fatalf("accepted a signature that is not ours: %q", sig)
			}
			if webhooks.Verify("another secret", h.Get(webhooks.HeaderTimestamp), sig, body, now, 5*time.Minute) == nil {
				t.Fatal("accepted under another secret")
			}
		}
	})
}

func TestVerifyRefusesForgeries(t *testing.T) {
	t.Parallel()
	now := time.Unix(1796374800, 0)
	ts := strconv.FormatInt(now.Unix(), 10)
	body := []byte(`{"id":"1"}`)
	good := webhooks.Sign(secret, ts, body)
	old := strconv.FormatInt(now.Add(-6*time.Minute).Unix(), 10)
	tests := []struct {
		name, ts, sig string
		body          []byte
		ok            bool
	}{
		{"genuine", ts, good, body, true},
		{"body changed", ts, good, []byte(`{"id":"2"}`), false},
		{"timestamp changed", strconv.FormatInt(now.Unix()+1, 10), good, body, false},
		{"replayed after the window, re-signed with the old time", old, webhooks.Sign(secret, old, body), body, false},
		{"wrong secret", ts, webhooks.Sign("guess", ts, body), body, false},
		{"no prefix", ts, good[len("sha256="):], body, false},
		{"empty", "", "", body, false},
		{"timestamp not a number", "yesterday", good, body, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			h.Set(webhooks.HeaderTimestamp, tt.ts)
			h.Set(webhooks.HeaderSignature, tt.sig)
			err := verifyFlowbot(h, tt.body, secret, now)
			libErr := webhooks.Verify(secret, tt.ts, tt.sig, tt.body, now, 5*time.Minute)
			if tt.ok {
				if err != nil || libErr != nil {
					t.Fatalf("refused a genuine delivery: %v / %v", err, libErr)
				}
				return
			}
			if err == nil || libErr == nil {
				t.Fatalf("accepted a forgery: %v / %v", err, libErr)
			}
		})
	}
}
