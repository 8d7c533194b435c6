package teams_test

import (
	"context"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/adapters/adaptertest"
	"github.com/flowbot/flowbot/adapters/teams/teamstest"
	"github.com/flowbot/flowbot/bots"
)

// echoReply answers every event with a message and a card, so that an
// accepted activity would make the stand-in notifier call the Connector.
func echoReply(ev bots.Event) (bots.Reply, error) {
	return bots.Reply{Messages: []bots.Message{{Text: "echo"}}, Card: &bots.Card{Title: "done"}}, nil
}

// TestTokenAttacksRefused: every way a token can be wrong is refused with
// 401, reaches no handler, and nothing is sent to the activity's
// serviceUrl (no token fetched, no Connector call).
func TestTokenAttacksRefused(t *testing.T) {
	t.Parallel()
	now := time.Now()
	tests := []struct {
		name   string
		claims teamstest.Claims
		token  func(b *testBundle) string
		edit   func(act map[string]any)
	}{
		{name: "no token", token: func(*testBundle) string { return "" }},
		{name: "not a jwt", token: func(*testBundle) string { return "garbage.token.here" }},
		{name: "unknown key", claims: teamstest.Claims{Kid: "some-other-kid"}},
		{name: "forged signature", claims: teamstest.Claims{Forge: true}},
		{name: "unendorsed key", claims: teamstest.Claims{Kid: teamstest.KidUnendorsed}},
		{name: "wrong audience", claims: teamstest.Claims{Audience: "another-bot"}},
		{name: "wrong issuer", claims: teamstest.Claims{Issuer: "https://sts.windows.net/evil/"}},
		{name: "expired", claims: teamstest.Claims{NotBefore: now.Add(-time.Hour), Expires: now.Add(-6 * time.Minute)}},
		{name: "not yet valid", claims: teamstest.Claims{NotBefore: now.Add(6 * time.Minute), Expires: now.Add(time.Hour)}},
		{name: "alg none", claims: teamstest.Claims{Alg: "none"}},
		{name: "HS256 with the public key as secret", claims: teamstest.Claims{Alg: "HS256"}},
		{name: "serviceurl claim mismatch", claims: teamstest.Claims{ServiceURL: "https://attacker.example/"}},
		{name: "activity serviceUrl mismatch", edit: func(act map[string]any) { act["serviceUrl"] = "https://attacker.example/" }},
		{name: "other channel", edit: func(act map[string]any) { act["channelId"] = "webchat" }},
		{name: "tampered token payload", token: func(b *testBundle) string {
			parts := strings.Split(b.token(), ".")
			parts[1] = parts[1][:len(parts[1])-2] + "AA"
			return strings.Join(parts, ".")
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rec := &adaptertest.Recorder{ReplyFunc: echoReply}
			b := setup(t, setupOpts{handler: rec, standIn: true})
			tok := b.fake.Token(b.appID, tt.claims)
			if tt.token != nil {
				tok = tt.token(b)
			}
			for _, act := range []map[string]any{
				b.fake.Message(b.appID, teamsID("eve"), "aad-eve", "/help"),
				b.fake.Invoke(b.appID, teamsID("eve"), "aad-eve", "approve", map[string]any{"flowbot_a": "approve", "flowbot_v": map[string]any{"task": "1"}}, ""),
			} {
				if tt.edit != nil {
					tt.edit(act)
				}
				r := teamstest.Post(b.adapter, act, tok)
				require.Equal(t, http.StatusUnauthorized, r.Status, "body %s", r.Body)
			}
			require.Empty(t, rec.Events(), "a refused activity reaches no handler")
			require.Zero(t, b.fake.Calls(), "nothing is sent for a refused activity")
			require.Zero(t, b.fake.TokenRequests(), "no outbound token is fetched for a refused activity")
			require.EqualValues(t, 2, b.adapter.Stats().Refused)
		})
	}
}

// TestGenuineTokenWithinSkew: a token expired 4 minutes ago is still
// inside the 5 minute leeway.
func TestGenuineTokenWithinSkew(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{})
	tok := b.fake.Token(b.appID, teamstest.Claims{NotBefore: time.Now().Add(-time.Hour), Expires: time.Now().Add(-4 * time.Minute)})
	r := teamstest.Post(b.adapter, b.fake.Message(b.appID, teamsID("amy"), "aad-amy", "hi"), tok)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	require.Len(t, b.rec.Events(), 1)
}

// TestUnknownKidRefetchIsRateLimited: the keys are fetched once, then on an
// unknown kid at most once per KeysMinRefetch.
func TestUnknownKidRefetchIsRateLimited(t *testing.T) {
	t.Parallel()
	var offset atomic.Int64 // the adapter's clock runs ahead of the wall clock by this
	b := setup(t, setupOpts{now: func() time.Time { return time.Now().Add(time.Duration(offset.Load())) }})
	act := func() map[string]any { return b.fake.Message(b.appID, teamsID("amy"), "aad-amy", "hi") }
	require.Equal(t, http.StatusOK, teamstest.Post(b.adapter, act(), b.token()).Status)
	require.Equal(t, 1, b.fake.KeyFetches())
	for range 5 {
		r := teamstest.Post(b.adapter, act(), b.fake.Token(b.appID, teamstest.Claims{Kid: "rotated-kid"}))
		require.Equal(t, http.StatusUnauthorized, r.Status)
	}
	require.Equal(t, 1, b.fake.KeyFetches(), "no refetch within a minute of the last fetch")
	offset.Store(int64(2 * time.Minute))
	for range 5 {
		r := teamstest.Post(b.adapter, act(), b.fake.Token(b.appID, teamstest.Claims{Kid: "rotated-kid"}))
		require.Equal(t, http.StatusUnauthorized, r.Status)
	}
	require.Equal(t, 2, b.fake.KeyFetches(), "one refetch for the unknown kid, then rate-limited")
	require.Equal(t, http.StatusOK, teamstest.Post(b.adapter, act(), b.token()).Status, "known keys keep working")
}

// TestReadyFetchesKeysAndToken: Ready answers nil once the keys and a
// Connector token can be fetched, and an error when the metadata is down.
func TestReadyFetchesKeysAndToken(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{})
	require.NoError(t, b.adapter.Ready(context.Background()))
	require.Equal(t, 1, b.fake.KeyFetches())
	require.Equal(t, 1, b.fake.TokenRequests())
	b.fake.Close()
	down := setup(t, setupOpts{mutate: func(c *teamsConfig) { c.OpenIDMetadataURL = b.fake.URL + "/gone" }})
	require.Error(t, down.adapter.Ready(context.Background()))
}
