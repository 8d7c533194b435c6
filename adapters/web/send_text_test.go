package web_test

import (
	"context"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/adapters/web"
	"github.com/flowbot/flowbot/bots"
)

// The adapter has no text rules of its own: empty and long texts reach the
// bot, which answers in the user's language; only MaxBody bounds a request.
func TestSendHandsEmptyAndLongTextToTheBot(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("长", 2*bots.MaxTextChars) // twice the bot's limit
	tests := []struct {
		name, text string
		wantEvent  string // the text the bot gets
		wantMine   bool   // the user's own bubble is kept
	}{
		{"empty", "", "", false},
		{"blank", " \n\t ", "", false},
		{"over the bot's limit", long, long, true},
		{"just under the body cap", strings.Repeat("x", web.MaxBody-100), strings.Repeat("x", web.MaxBody-100), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, web.Config{Demo: true})
			b.handler.HandleFunc = func(ctx context.Context, ev bots.Event) (bots.Reply, error) {
				return bots.Reply{Messages: []bots.Message{{Text: "消息太长了 / answered by the bot"}}}, nil
			}
			var out replyResponse
			r := postJSON(t, b.srv.URL+"/api/send", map[string]string{"id": "ev-1", "user": "emp", "text": tt.text}, &out)
			require.Equal(t, http.StatusOK, r.StatusCode, out.Error)
			evs := b.handler.Events()
			require.Len(t, evs, 1, "the bot gets the text")
			require.Equal(t, tt.wantEvent, evs[0].Text)
			require.Len(t, out.Messages, 1)
			require.Equal(t, "消息太长了 / answered by the bot", out.Messages[0].Text)

			h := history(t, b.srv.URL, "emp")
			if tt.wantMine {
				require.NotNil(t, out.Me)
				require.Equal(t, tt.wantEvent, out.Me.Text, "the refused text stays readable in the chat")
				require.Equal(t, []string{"me", "bot"}, []string{h[0].From, h[1].From})
			} else {
				require.Nil(t, out.Me, "an empty text has no bubble")
				require.Len(t, h, 1)
				require.Equal(t, "bot", h[0].From)
			}
		})
	}
}

// sentRecorder is a bot that answers with cards and records what the
// adapter reports through Reply.Sent.
type sentRecorder struct {
	mu   sync.Mutex
	sent map[int]string // index -> message id
}

func (s *sentRecorder) Handle(ctx context.Context, ev bots.Event) (bots.Reply, error) {
	return bots.Reply{
		Messages: []bots.Message{
			{Text: "已提交"},
			{}, // empty: skipped, never reported
			{Card: approvalCard("")},
		},
		Sent: func(ctx context.Context, index int, ref string) {
			s.mu.Lock()
			defer s.mu.Unlock()
			s.sent[index] = ref
		},
	}, nil
}

func (s *sentRecorder) Sent() map[int]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[int]string, len(s.sent))
	for k, v := range s.sent {
		out[k] = v
	}
	return out
}

// The bot learns where its reply cards went, so it can update those copies
// later through Messenger.Update.
func TestReplyReportsSentMessages(t *testing.T) {
	t.Parallel()
	for _, path := range []string{"/api/send", "/api/action"} {
		t.Run(path, func(t *testing.T) {
			t.Parallel()
			bot := &sentRecorder{sent: map[int]string{}}
			b := setup(t, web.Config{Demo: true, Handler: bot})
			var out replyResponse
			r := postJSON(t, b.srv.URL+path, map[string]any{
				"user": "emp", "text": "/leave", "action": "approve", "message_id": "x",
			}, &out)
			require.Equal(t, http.StatusOK, r.StatusCode, out.Error)
			require.Len(t, out.Messages, 2)
			sent := bot.Sent()
			require.Equal(t, map[int]string{0: out.Messages[0].ID, 2: out.Messages[1].ID}, sent,
				"each sent message is reported with its index in Reply.Messages")

			// The reported ref is what Update accepts: the card changes in the chat.
			done := approvalCard("已同意")
			done.Buttons, done.Color = nil, bots.ColorGreen
			require.NoError(t, b.adapter.Update(context.Background(), sent[2], bots.Message{Card: done}))
			h := history(t, b.srv.URL, "emp")
			last := h[len(h)-1]
			require.Equal(t, sent[2], last.ID)
			require.Equal(t, "green", last.Card.Color)
			require.Empty(t, last.Card.Buttons)
			require.Equal(t, 2, last.Rev)
		})
	}
}

// The composer states the bot's own limit: index.html's data-max is
// bots.MaxTextChars.
func TestComposerLimitIsTheBots(t *testing.T) {
	t.Parallel()
	src, err := os.ReadFile("static/index.html")
	require.NoError(t, err)
	require.Contains(t, string(src), `data-testid="input" data-max="`+strconv.Itoa(bots.MaxTextChars)+`"`)
	require.NotContains(t, string(src), `maxlength="`, "a paste past maxlength is cut without a word")
}

// A sentence of exactly the limit in Chinese characters is accepted (the
// limit counts characters, not bytes); one more is refused and says both
// numbers in characters.
func TestBotLimitCountsCharacters(t *testing.T) {
	t.Parallel()
	s := setupStory(t)
	rep := s.send(t, employee, "/help "+strings.Repeat("长", bots.MaxTextChars-6))
	require.NotContains(t, rep.Messages[0].Text, "消息太长了")
	rep = s.send(t, employee, strings.Repeat("长", bots.MaxTextChars+1))
	require.Contains(t, rep.Messages[0].Text, "2001 个字，上限 2000 个字")
}
