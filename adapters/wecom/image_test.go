package wecom_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/adapters/adaptertest"
	"github.com/flowbot/flowbot/bots"
)

func TestReportCardCarriesItsChart(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{})
	card, _ := adaptertest.ReportCard(t)
	_, m := b.sendCard(t, "sunli", card, "owner-report-1")
	// A card with a picture and no buttons is a news_notice card that
	// WeCom fetches the picture of; a click opens the full report.
	require.Equal(t, "news_notice", m.Card["card_type"])
	img := m.Card["card_image"].(map[string]any)
	require.Equal(t, adaptertest.ChartURL, img["url"])
	require.InDelta(t, 720.0/520, img["aspect_ratio"], 0.01)
	act := m.Card["card_action"].(map[string]any)
	require.Equal(t, adaptertest.ReportURL[:40], act["url"].(string)[:40])
	require.NotContains(t, m.Card, "button_list")

	// With buttons, the card stays a button card and the picture is a link.
	card.Buttons = []bots.Button{{Label: "好", Action: "ack", Value: map[string]string{"r": "1"}}}
	_, m = b.sendCard(t, "sunli", card, "owner-report-2")
	require.Equal(t, "button_interaction", m.Card["card_type"])
	jl := m.Card["jump_list"].([]any)
	require.Equal(t, adaptertest.ChartURL, jl[0].(map[string]any)["url"])

	// A picture without an https URL is left out.
	card.Buttons = nil
	card.Image.URL = "/relative/chart.png"
	_, m = b.sendCard(t, "sunli", card, "owner-report-3")
	require.Equal(t, "button_interaction", m.Card["card_type"])
	require.NotContains(t, m.Card, "card_image")
}
