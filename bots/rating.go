package bots

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"

	"github.com/flowbot/flowbot/flows"
)

// rating returns the score of the request's rating (0: not rated).
func rating(v *flows.View) (score int, comment string) {
	for _, e := range v.Events {
		if e.Type != flows.EvRated {
			continue
		}
		var d struct {
			Score   int    `json:"score"`
			Comment string `json:"comment"`
		}
		if json.Unmarshal(e.Data, &d) == nil {
			return d.Score, d.Comment
		}
	}
	return 0, ""
}

// canRate reports whether the viewer may still rate request v: the flow
// asks for ratings, the viewer filed it, it is finished and not rated yet.
func canRate(v *flows.View, viewer *flows.User) bool {
	in := v.Instance
	if v.Def == nil || !v.Def.Satisfaction || viewer == nil || viewer.ID != in.Applicant {
		return false
	}
	if in.Status != flows.StatusApproved && in.Status != flows.StatusRejected {
		return false
	}
	s, _ := rating(v)
	return s == 0
}

// stars shows a score as five stars.
func stars(score int) string {
	score = min(max(score, 0), 5)
	return strings.Repeat("★", score) + strings.Repeat("☆", 5-score)
}

// addRating puts the rating onto the applicant's request card of a flow
// that asks for it: the score once rated, else five buttons (1-5) and an
// optional comment input. The buttons come first: a card shows at most six.
func addRating(loc string, v *flows.View, viewer *flows.User, c *Card) {
	if v.Def == nil || !v.Def.Satisfaction || viewer == nil || viewer.ID != v.Instance.Applicant {
		return
	}
	if s, comment := rating(v); s > 0 {
		val := stars(s) + " " + strconv.Itoa(s) + "/5"
		if comment != "" {
			val += " · " + truncate(comment, 100)
		}
		c.Fields = append(c.Fields, Field{Label: T(loc, "f_rating", nil), Value: val})
		return
	}
	if !canRate(v, viewer) {
		return
	}
	id := strconv.FormatInt(v.Instance.ID, 10)
	btns := make([]Button, 0, 5+len(c.Buttons))
	for s := 1; s <= 5; s++ {
		btns = append(btns, Button{Label: strconv.Itoa(s) + "★", Action: "rate",
			Value: map[string]string{"instance": id, "score": strconv.Itoa(s)}, Style: StyleDefault})
	}
	c.Buttons = append(btns, c.Buttons...)
	c.Inputs = append(c.Inputs, Input{Name: "comment", Label: T(loc, "rate_comment", nil), Placeholder: T(loc, "rate_comment_hint", nil)})
	c.Markdown = joinNonEmpty("\n\n", c.Markdown, T(loc, "rate_ask", map[string]any{"number": v.Instance.Number}))
}

// rateScore reads a score "1".."5"; anything else is 0, which the engine
// refuses with rating_range.
func rateScore(s string) int {
	n, err := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(s), "★")))
	if err != nil || n < 1 || n > 5 {
		return 0
	}
	return n
}

// rateCommand answers /rate N score [comment].
func (b *Bot) rateCommand(ctx context.Context, u *flows.User, v *flows.View, words []string) (Reply, error) {
	loc := locale(u)
	if len(words) < 2 {
		return textReply(false, T(loc, "rate_usage", nil)), nil
	}
	out, err := b.eng.Rate(ctx, u.ID, v.Instance.ID, rateScore(words[1]), strings.Join(words[2:], " "))
	if err != nil {
		return b.fail(ctx, loc, err)
	}
	c := b.RequestCard(b.withRoute(ctx, b.outcomeView(out, v.Events)), u)
	c.Markdown = T(loc, "toast_rated", nil) + "\n\n" + c.Markdown
	return Reply{Messages: []Message{{Card: c}}}, nil
}
