package dingtalk

import (
	"strings"

	"github.com/flowbot/flowbot/bots"
)

// imageMarkdown is a card picture in the card's markdown: the picture,
// which DingTalk fetches from its https URL, then a link to it for
// clients that show no pictures in cards; only the link for a plain http
// URL; nothing without a URL. UNVERIFIED: DingTalk needs the URL
// reachable from its servers.
func imageMarkdown(img *bots.Image) string {
	if img == nil || len(img.URL) > 2048 {
		return ""
	}
	alt := cut(linkEscaper.Replace(img.Alt), 300)
	u := urlEscaper.Replace(img.URL)
	switch {
	case strings.HasPrefix(img.URL, "https://"):
		return "![" + alt + "](" + u + ")  \n📊 [" + alt + "](" + u + ")  \n"
	case strings.HasPrefix(img.URL, "http://"):
		return "📊 [" + alt + "](" + u + ")  \n"
	}
	return ""
}
