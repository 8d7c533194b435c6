package bots

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/flowbot/flowbot/flows"
)

// whoami shows the user's directory entry and linked platform accounts.
func (b *Bot) whoami(ctx context.Context, u *flows.User) (Reply, error) {
	loc := locale(u)
	c := &Card{Title: T(loc, "whoami_title", map[string]any{"name": u.Name}), Color: ColorBlue}
	c.Fields = append(c.Fields, Field{Label: T(loc, "whoami_id", nil), Value: u.ID})
	if u.Email != "" {
		c.Fields = append(c.Fields, Field{Label: T(loc, "whoami_email", nil), Value: u.Email})
	}
	keys := make([]string, 0, len(u.Platforms))
	for k := range u.Platforms {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var lines []string
	for _, k := range keys {
		lines = append(lines, "- "+k+": "+u.Platforms[k])
	}
	if len(lines) == 0 {
		c.Markdown = T(loc, "whoami_none", nil)
	} else {
		c.Markdown = T(loc, "whoami_accounts", nil) + "\n" + strings.Join(lines, "\n")
	}
	if b.cfg.Prefs != nil && len(lines) > 0 {
		p, err := b.cfg.Prefs.Preference(ctx, u.ID)
		if err != nil {
			return Reply{}, fmt.Errorf("whoami %s: %w", u.ID, err)
		}
		if p != "" {
			c.Markdown += "\n\n" + T(loc, "whoami_preferred", map[string]any{"platform": p})
		}
	}
	return Reply{Messages: []Message{{Card: c}}}, nil
}
