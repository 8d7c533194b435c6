package bots

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/flowbot/flowbot/flows"
)

// linkedPlatforms are the platforms u has an account on, sorted
// ("feishu:cli_a1" counts as feishu).
func linkedPlatforms(u *flows.User) []string {
	var ps []string
	for k, id := range u.Platforms {
		p, _, _ := strings.Cut(k, ":")
		if id != "" && !slices.Contains(ps, p) {
			ps = append(ps, p)
		}
	}
	slices.Sort(ps)
	return ps
}

// prefer sets (or, with "off", clears) the platform u is reached on first.
func (b *Bot) prefer(ctx context.Context, u *flows.User, words []string) (Reply, error) {
	loc := locale(u)
	if b.cfg.Prefs == nil {
		return textReply(false, T(loc, "prefer_unavailable", nil)), nil
	}
	linked := linkedPlatforms(u)
	list := strings.Join(linked, ", ")
	if len(words) != 1 {
		return textReply(false, T(loc, "prefer_usage", map[string]any{"platforms": list})), nil
	}
	p := strings.ToLower(strings.TrimSpace(words[0]))
	if p == "off" || p == "default" || p == "默认" {
		if err := b.cfg.Prefs.SetPreference(ctx, u.ID, ""); err != nil {
			return Reply{}, fmt.Errorf("clear preference of %s: %w", u.ID, err)
		}
		return textReply(false, T(loc, "prefer_cleared", nil)), nil
	}
	if !slices.Contains(linked, p) {
		return textReply(false, T(loc, "prefer_unlinked", map[string]any{"platform": words[0], "platforms": list})), nil
	}
	if err := b.cfg.Prefs.SetPreference(ctx, u.ID, p); err != nil {
		return Reply{}, fmt.Errorf("set preference of %s: %w", u.ID, err)
	}
	return textReply(false, T(loc, "prefer_set", map[string]any{"platform": p})), nil
}
