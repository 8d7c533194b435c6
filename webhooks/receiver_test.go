package webhooks_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"strconv"
	"time"
)

// The receiver example of docs/WEBHOOKS.md. TestDocReceiverIsTested checks
// that the docs show exactly this function, and the end-to-end tests use it
// to check every delivery they receive.

// verifyFlowbot checks a delivery: the timestamp is at most 5 minutes
// old (or ahead), and the signature is the HMAC-SHA256 of
// timestamp + "." + body under the subscription's secret.
func verifyFlowbot(h http.Header, body []byte, secret string, now time.Time) error {
	ts := h.Get("X-Flowbot-Timestamp")
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return errors.New("missing or bad X-Flowbot-Timestamp")
	}
	if d := now.Sub(time.Unix(sec, 0)); d > 5*time.Minute || d < -5*time.Minute {
		return errors.New("timestamp outside the 5 minute window")
	}
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(ts + "."))
	mac.Write(body)
	want := "sha256=" + hex.EncodeToString(mac.Sum(nil))
	if !hmac.Equal([]byte(h.Get("X-Flowbot-Signature")), []byte(want)) {
		return errors.New("bad signature")
	}
	return nil
}
