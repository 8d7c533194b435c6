package bots

import (
	"context"
	"io"
	"regexp"
)

// ImageOpener reads a kept picture by its blob key. The bot's Files may
// implement it (cmd/flowbot's does): cards then carry the picture's
// content for platforms that upload it.
type ImageOpener interface {
	Open(ctx context.Context, key string) (io.ReadCloser, error)
}

var imageKeyRE = regexp.MustCompile(`^[0-9a-f]{32}$`)

// textImage is the picture a text message's data names
// ({"key", "url", "alt": {"zh", "en"}}, the owner report's chart), for
// the viewer's locale; nil when it names none or names it badly.
func (b *Bot) textImage(v any, loc string) *Image {
	m, ok := v.(map[string]any)
	if !ok {
		return nil
	}
	key, _ := m["key"].(string)
	url, _ := m["url"].(string)
	if !imageKeyRE.MatchString(key) || url == "" {
		return nil
	}
	img := &Image{Key: key, URL: url}
	if alt, ok := textOf(m["alt"]); ok {
		img.Alt = alt.In(loc)
	}
	if o, ok := b.cfg.Files.(ImageOpener); ok && b.cfg.Files != nil {
		img.Open = func(ctx context.Context) (io.ReadCloser, error) { return o.Open(ctx, key) }
	}
	return img
}
