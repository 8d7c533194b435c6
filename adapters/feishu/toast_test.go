package feishu_test

import (
	"bytes"
	"errors"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/adapters/feishu"
	"github.com/flowbot/flowbot/adapters/feishu/feishutest"
	"github.com/flowbot/flowbot/bots"
)

func TestClickToastKinds(t *testing.T) {
	t.Parallel()
	tests := []struct {
		kind bots.ToastKind
		err  error
		want string
	}{
		{"", nil, "info"},
		{bots.ToastInfo, nil, "info"},
		{bots.ToastWarning, nil, "warning"},
		{bots.ToastError, nil, "error"},
		{"", errors.New("database down"), "error"},
	}
	for _, tt := range tests {
		t.Run(string(tt.kind)+"/"+tt.want, func(t *testing.T) {
			t.Parallel()
			b := setup(t, setupOpts{reply: func(bots.Event) (bots.Reply, error) {
				return bots.Reply{Toast: "提示 notice", ToastKind: tt.kind}, tt.err
			}})
			r := b.fake.Click(t, b.app.ID, "ou_lilei", "om_task", map[string]any{"a": "approve"}, nil)
			require.Equal(t, http.StatusOK, r.Status)
			require.NotNil(t, r.Toast)
			require.Equal(t, tt.want, r.Toast.Type)
			require.Equal(t, "提示 notice", r.Toast.Content)
		})
	}
}

// TestTokenOnlyReplay: without an encrypt key nothing is signed, so the
// event's create_time is held to the replay window too.
func TestTokenOnlyReplay(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		age    time.Duration
		status int
	}{
		{"fresh", 0, http.StatusOK},
		{"replayed", 10 * time.Minute, http.StatusUnauthorized},
		{"from the future", -10 * time.Minute, http.StatusUnauthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, setupOpts{encryptKey: "-"})
			r := b.fake.Deliver(t, feishutest.Delivery{App: b.app.ID, OpenID: "ou_alice", ChatID: "oc_p2p_alice", Text: "/todo", CreatedAt: time.Now().Add(-tt.age)})
			require.Equal(t, tt.status, r.Status, "body %s", r.Body)
			if tt.status != http.StatusOK {
				require.Empty(t, b.rec.Events())
			} else {
				require.Len(t, b.rec.Events(), 1)
			}
		})
	}
}

func TestWarnsWithoutEncryptKey(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, key string
		warn      bool
	}{{"token only", "", true}, {"encrypt key", "ek", false}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var buf bytes.Buffer
			log := slog.New(slog.NewTextHandler(&buf, nil))
			_, err := feishu.New(feishu.Config{Apps: []feishu.App{{ID: "cli_x", Secret: "s", EncryptKey: tt.key, VerificationToken: "vt"}}}, recorderStub{}, feishu.WithLogger(log))
			require.NoError(t, err)
			if tt.warn {
				require.Contains(t, buf.String(), "level=WARN")
				require.Contains(t, buf.String(), "encrypt_key")
				require.Contains(t, buf.String(), "cli_x")
			} else {
				require.Empty(t, buf.String())
			}
		})
	}
}

// TestGroupMessagesWithFetchedBotID: Start learns the bot's open_id, so a
// group message mentioning a colleague is not a command to the bot.
func TestGroupMessagesWithFetchedBotID(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		override string // configured bot_open_id
		mention  string // whom the message mentions: "bot" = the fake's bot
		want     string // "" = ignored
	}{
		{"colleague mentioned", "", "ou_alice", ""},
		{"bot mentioned", "", "bot", "请假"},
		{"configured id wins", "ou_custom", "ou_custom", "请假"},
		{"configured id, fake's bot", "ou_custom", "bot", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, setupOpts{appMutator: func(a *feishu.App) { a.BotOpenID = tt.override }})
			require.NoError(t, b.adapter.Start(t.Context()))
			if tt.override != "" {
				require.Zero(t, b.fake.Calls(), "a configured open_id is not fetched")
			}
			who := tt.mention
			if who == "bot" {
				who = "ou_bot_" + b.app.ID
			}
			r := b.fake.Deliver(t, feishutest.Delivery{App: b.app.ID, OpenID: "ou_bob", ChatID: "oc_group", ChatType: "group",
				Text: "@_user_1 请假", Mentions: []feishutest.Mention{{Key: "@_user_1", OpenID: who, Name: "Alice"}}})
			require.Equal(t, http.StatusOK, r.Status)
			evs := b.rec.Events()
			if tt.want == "" {
				require.Empty(t, evs)
				return
			}
			require.Len(t, evs, 1)
			require.Equal(t, tt.want, evs[0].Text)
		})
	}
}
