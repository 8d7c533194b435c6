package feishu_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/adapters/feishu"
	"github.com/flowbot/flowbot/adapters/feishu/feishutest"
	"github.com/flowbot/flowbot/bots"
)

// TestEverySampleCardIsAccepted sends each sample card to the fake, which
// refuses a card request body over 30 KB as Feishu does.
func TestEverySampleCardIsAccepted(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{rate: feishu.RateLimits{ChatPerSecond: 1000}})
	for name, c := range samples() {
		_, err := b.adapter.Send(context.Background(), bots.Recipient{UserID: "ou_alice"}, bots.Message{Card: &c}, "card:"+name)
		require.NoError(t, err, "card %s", name)
		raw, err := feishu.RenderCard(c)
		require.NoError(t, err)
		require.LessOrEqual(t, feishu.CardRequestBytes(raw), feishu.MaxCardBytes, "card %s", name)
	}
}

func TestRenderCutsDown(t *testing.T) {
	t.Parallel()
	manyButtons := bots.Card{Title: "buttons", Markdown: strings.Repeat(`"\`, 20000)}
	for i := range 10 {
		manyButtons.Buttons = append(manyButtons.Buttons, bots.Button{Label: fmt.Sprint("b", i), Action: "act", Value: map[string]string{"i": fmt.Sprint(i), "pad": strings.Repeat("p", 2800)}})
	}
	tests := []struct {
		name  string
		card  bots.Card
		check func(t *testing.T, card map[string]any, raw string)
	}{
		{"fields dropped from the end", samples()["items_300"], func(t *testing.T, card map[string]any, raw string) {
			require.Contains(t, raw, "第 1 项 item 1")
			require.NotContains(t, raw, "第 300 项 item 300")
			require.Regexp(t, `… 还有 \d+ 项 / \d+ more`, raw)
			require.Len(t, feishutest.Buttons(card), 2, "the buttons stay")
		}},
		{"escaped characters counted", samples()["quotes"], func(t *testing.T, card map[string]any, raw string) {
			require.Len(t, feishutest.Buttons(card), 6)
			require.Contains(t, raw, "Quotes and backslashes")
		}},
		{"buttons beyond 6 dropped", manyButtons, func(t *testing.T, card map[string]any, raw string) {
			require.Len(t, feishutest.Buttons(card), 6)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b, err := feishu.RenderCard(tt.card)
			require.NoError(t, err)
			require.LessOrEqual(t, feishu.CardRequestBytes(b), feishu.MaxCardBytes)
			var card map[string]any
			require.NoError(t, json.Unmarshal(b, &card))
			tt.check(t, card, string(b))
		})
	}
}

func TestRenderRefusesCardOfHugeButtons(t *testing.T) {
	t.Parallel()
	c := bots.Card{Title: "t", Buttons: []bots.Button{{Label: "x", Action: "a", Value: map[string]string{"blob": strings.Repeat("x", 40000)}}}}
	_, err := feishu.RenderCard(c)
	require.ErrorIs(t, err, feishu.ErrCardTooLarge)
}
