package teams_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/adapters/adaptertest"
	"github.com/flowbot/flowbot/adapters/teams/teamstest"
	"github.com/flowbot/flowbot/bots"
)

func TestMessageBecomesEvent(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{})
	act := b.fake.Message(b.appID, teamsID("amy"), "aad-amy", "<at>flowbot</at> /todo")
	act["entities"] = []any{map[string]any{"type": "mention", "text": "<at>flowbot</at>", "mentioned": map[string]any{"id": "28:" + b.appID, "name": "flowbot"}}}
	r := teamstest.Post(b.adapter, act, b.token())
	require.Equal(t, http.StatusOK, r.Status)
	evs := b.rec.Events()
	require.Len(t, evs, 1)
	ev := evs[0]
	require.Equal(t, "/todo", ev.Text, "the bot mention is stripped")
	require.Equal(t, "aad-amy", ev.UserID, "identity by AAD object id")
	require.Equal(t, teamsID("amy"), ev.UnionID, "the Teams id is the fallback identity")
	require.Equal(t, "p2p", ev.ChatType)
	require.Equal(t, act["id"], ev.ID)
	require.Equal(t, b.fake.PersonalConversation(teamsID("amy")), ev.ChatID)
}

func TestGroupMessageIsGroup(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{})
	act := b.fake.Message(b.appID, teamsID("amy"), "", "hello")
	act["conversation"] = map[string]any{"id": "19:abc@thread.tacv2;messageid=1", "conversationType": "channel"}
	require.Equal(t, http.StatusOK, teamstest.Post(b.adapter, act, b.token()).Status)
	ev := b.rec.Events()[0]
	require.Equal(t, "group", ev.ChatType)
	require.Equal(t, teamsID("amy"), ev.UserID, "without an AAD object id the Teams id is the user id")
}

func TestReplayedActivityHandledOnce(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{})
	msg := b.fake.Message(b.appID, teamsID("amy"), "aad-amy", "hi")
	inv := b.fake.Invoke(b.appID, teamsID("amy"), "aad-amy", "approve", map[string]any{"flowbot_a": "approve", "flowbot_v": map[string]any{"task": "1"}}, "")
	for range 3 {
		require.Equal(t, http.StatusOK, teamstest.Post(b.adapter, msg, b.token()).Status)
		r := teamstest.Post(b.adapter, inv, b.token())
		require.Equal(t, http.StatusOK, r.Status)
		require.Equal(t, http.StatusOK, r.Invoke.StatusCode)
	}
	require.Len(t, b.rec.Events(), 2, "a redelivered activity reaches the bot once")
	require.EqualValues(t, 4, b.adapter.Stats().Duplicates)
}

func TestInvokeAnsweredWithCard(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{})
	inv := b.fake.Invoke(b.appID, teamsID("amy"), "aad-amy", "approve",
		map[string]any{"flowbot_a": "approve", "flowbot_v": map[string]any{"task": "9"}, "comment": "ok", "when" + "__from": "2026-12-01", "when__to": "2026-12-02"}, "1000")
	r := teamstest.Post(b.adapter, inv, b.token())
	require.Equal(t, http.StatusOK, r.Status)
	require.Equal(t, "application/vnd.microsoft.card.adaptive", r.Invoke.Type)
	require.Equal(t, "Done", r.Card()["body"].([]any)[0].(map[string]any)["items"].([]any)[0].(map[string]any)["text"])
	ev := b.rec.Events()[0]
	require.Equal(t, "approve", ev.Action.Name)
	require.Equal(t, map[string]string{"task": "9"}, ev.Action.Value)
	require.Equal(t, "ok", ev.Action.Inputs["comment"])
	require.Equal(t, "2026-12-01~2026-12-02", ev.Action.Inputs["when"], "a date range's two pickers come back as one value")
	require.Contains(t, ev.Action.MessageRef, "a=1000")
}

func TestSubmitFallbackBecomesAction(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{})
	act := b.fake.Message(b.appID, teamsID("amy"), "aad-amy", "")
	act["value"] = map[string]any{"flowbot_a": "reject", "flowbot_v": map[string]any{"task": "3"}, "reason": "no"}
	require.Equal(t, http.StatusOK, teamstest.Post(b.adapter, act, b.token()).Status)
	ev := b.rec.Events()[0]
	require.Equal(t, "reject", ev.Action.Name)
	require.Equal(t, "no", ev.Action.Inputs["reason"])
}

func TestBadActivitiesRefused(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		body   func(b *testBundle) []byte
		status int
	}{
		{"malformed json", func(*testBundle) []byte { return []byte(`{"type":`) }, http.StatusBadRequest},
		{"no serviceUrl", func(*testBundle) []byte {
			return []byte(`{"type":"message","from":{"id":"29:x"},"conversation":{"id":"a"}}`)
		}, http.StatusBadRequest},
		{"oversized", func(b *testBundle) []byte {
			return []byte(`{"type":"message","text":"` + strings.Repeat("x", 300<<10) + `"}`)
		}, http.StatusRequestEntityTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, setupOpts{})
			r := teamstest.Post(b.adapter, tt.body(b), b.token())
			require.Equal(t, tt.status, r.Status)
			require.Empty(t, b.rec.Events())
			require.Zero(t, b.fake.Calls())
		})
	}
	t.Run("malformed action data", func(t *testing.T) {
		t.Parallel()
		b := setup(t, setupOpts{})
		inv := b.fake.Invoke(b.appID, teamsID("amy"), "aad-amy", "approve", map[string]any{"flowbot_v": "x"}, "")
		r := teamstest.Post(b.adapter, inv, b.token())
		require.Equal(t, http.StatusOK, r.Status, "an invoke is always answered 200")
		require.Equal(t, http.StatusBadRequest, r.Invoke.StatusCode)
		require.Empty(t, b.rec.Events())
	})
	t.Run("verb differs from data", func(t *testing.T) {
		t.Parallel()
		b := setup(t, setupOpts{})
		inv := b.fake.Invoke(b.appID, teamsID("amy"), "aad-amy", "approve", map[string]any{"flowbot_a": "reject"}, "")
		r := teamstest.Post(b.adapter, inv, b.token())
		require.Equal(t, http.StatusBadRequest, r.Invoke.StatusCode)
		require.Empty(t, b.rec.Events())
	})
	t.Run("GET", func(t *testing.T) {
		t.Parallel()
		b := setup(t, setupOpts{})
		w := httptest.NewRecorder()
		b.adapter.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/api/messages", bytes.NewReader(nil)))
		require.Equal(t, http.StatusMethodNotAllowed, w.Code)
	})
}

// TestReplyNotSentByAdapter: the reply rule: the adapter never sends the
// reply's messages itself.
func TestReplyNotSentByAdapter(t *testing.T) {
	t.Parallel()
	rec := &adaptertest.Recorder{ReplyFunc: func(bots.Event) (bots.Reply, error) {
		return bots.Reply{Messages: []bots.Message{{Text: "hello"}}}, nil
	}}
	b := setup(t, setupOpts{handler: rec})
	require.Equal(t, http.StatusOK, teamstest.Post(b.adapter, b.fake.Message(b.appID, teamsID("amy"), "", "hi"), b.token()).Status)
	require.Zero(t, b.fake.Calls())
}
