package web

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/bots"
)

// TestWireCarriesTheCardImage: the page draws a card's picture from its
// signed link; a link the page would not load is left out.
func TestWireCarriesTheCardImage(t *testing.T) {
	t.Parallel()
	tests := []struct {
		url  string
		want *wireImage
	}{
		{"/ui/dashboard/report/chart.png?t=abc", &wireImage{URL: "/ui/dashboard/report/chart.png?t=abc", Alt: "图表"}},
		{"https://flowbot.example.com/c.png", &wireImage{URL: "https://flowbot.example.com/c.png", Alt: "图表"}},
		{"javascript:alert(1)", nil},
		{"data:image/png;base64,AAAA", nil},
	}
	for _, tt := range tests {
		w := toWire(&bots.Card{Title: "t", Image: &bots.Image{URL: tt.url, Alt: "图表"}})
		require.Equal(t, tt.want, w.Image, tt.url)
	}
	require.Nil(t, toWire(&bots.Card{Title: "t"}).Image)
}
