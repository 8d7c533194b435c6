package teams_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/adapters/adaptertest"
	"github.com/flowbot/flowbot/bots"
)

// cardImages returns the Image elements of an Adaptive Card's body.
func cardImages(card map[string]any) []map[string]any {
	var out []map[string]any
	body, _ := card["body"].([]any)
	for _, e := range body {
		if m, ok := e.(map[string]any); ok && m["type"] == "Image" {
			out = append(out, m)
		}
	}
	return out
}

func TestReportCardCarriesItsChart(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{})
	ctx := context.Background()
	card, _ := adaptertest.ReportCard(t)
	_, err := b.adapter.Send(ctx, bots.Recipient{Platform: "teams", UserID: teamsID("sunli")}, bots.Message{Card: &card}, "owner-report-1")
	require.NoError(t, err)
	acts := b.fake.ActivitiesIn(b.fake.PersonalConversation(teamsID("sunli")))
	require.Len(t, acts, 1)
	imgs := cardImages(acts[0].Card())
	require.Len(t, imgs, 1)
	require.Equal(t, adaptertest.ChartURL, imgs[0]["url"])
	require.Equal(t, card.Image.Alt, imgs[0]["altText"])

	// Teams shows https pictures only: an http one is a link.
	card.Image.URL = "http://flowbot.local/chart.png"
	_, err = b.adapter.Send(ctx, bots.Recipient{Platform: "teams", UserID: teamsID("sunli")}, bots.Message{Card: &card}, "owner-report-2")
	require.NoError(t, err)
	acts = b.fake.ActivitiesIn(b.fake.PersonalConversation(teamsID("sunli")))
	require.Len(t, acts, 2)
	require.Empty(t, cardImages(acts[1].Card()))
	require.Contains(t, acts[1].Card()["body"], map[string]any{"type": "TextBlock", "wrap": true, "text": "📊 [" + card.Image.Alt + "](http://flowbot.local/chart.png)"})
}
