package webhooks

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Header names of a delivery.
const (
	HeaderEvent     = "X-Flowbot-Event"
	HeaderDelivery  = "X-Flowbot-Delivery"
	HeaderTimestamp = "X-Flowbot-Timestamp"
	HeaderSignature = "X-Flowbot-Signature"
)

// Sign returns the X-Flowbot-Signature value for body sent at timestamp
// (unix seconds, as in X-Flowbot-Timestamp): "sha256=" and the hex
// HMAC-SHA256 of timestamp + "." + body under secret.
func Sign(secret, timestamp string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(timestamp))
	m.Write([]byte{'.'})
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// Errors of Verify.
var (
	ErrBadSignature = errors.New("webhook signature does not match")
	ErrBadTimestamp = errors.New("webhook timestamp missing or outside the window")
)

// Verify checks a received delivery: the timestamp is within window of now
// and the signature matches. It is what docs/WEBHOOKS.md shows receivers.
func Verify(secret, timestamp, signature string, body []byte, now time.Time, window time.Duration) error {
	sec, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil {
		return fmt.Errorf("%w: %q", ErrBadTimestamp, timestamp)
	}
	if d := now.Sub(time.Unix(sec, 0)); d > window || d < -window {
		return fmt.Errorf("%w: %s off", ErrBadTimestamp, d)
	}
	want := Sign(secret, timestamp, body)
	if !strings.HasPrefix(signature, "sha256=") || !hmac.Equal([]byte(signature), []byte(want)) {
		return ErrBadSignature
	}
	return nil
}
