package web

import (
	"strings"

	"github.com/flowbot/flowbot/bots"
)

// wireImage is a card's picture as the page shows it: an <img> of its
// signed URL (relative, or http(s)), with its description.
type wireImage struct {
	URL string `json:"url"`
	Alt string `json:"alt,omitempty"`
}

// toWireImage is img for the page; nil for none, or for a URL the page
// would not load (only our own links: relative or http(s)).
func toWireImage(img *bots.Image) *wireImage {
	if img == nil {
		return nil
	}
	if !strings.HasPrefix(img.URL, "/") && !strings.HasPrefix(img.URL, "https://") && !strings.HasPrefix(img.URL, "http://") {
		return nil
	}
	return &wireImage{URL: img.URL, Alt: img.Alt}
}
