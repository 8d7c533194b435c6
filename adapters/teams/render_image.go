package teams

import (
	"strings"

	"github.com/flowbot/flowbot/bots"
)

// renderImage is a card picture as an Adaptive Card Image element, which
// Teams fetches from its https URL; a plain http URL is shown as a link,
// a picture without a URL not at all
// (its bytes inlined as a data URI would overrun the card's 28 KB).
// UNVERIFIED: Teams needs the URL reachable from Microsoft's servers.
func renderImage(img *bots.Image) []any {
	if img == nil || len(img.URL) > 2048 {
		return nil
	}
	alt := cut(img.Alt, 500)
	if strings.HasPrefix(img.URL, "http://") {
		// Teams shows pictures from https only: a link instead.
		return []any{map[string]any{"type": "TextBlock", "wrap": true, "text": "📊 [" + strings.NewReplacer("[", "(", "]", ")").Replace(alt) + "](" + img.URL + ")"}}
	}
	if !strings.HasPrefix(img.URL, "https://") {
		return nil
	}
	return []any{
		map[string]any{"type": "Image", "url": img.URL, "altText": alt, "size": "Stretch",
			"selectAction": map[string]any{"type": "Action.OpenUrl", "url": img.URL, "title": alt}},
	}
}
