package wecom

import (
	"strings"

	"github.com/flowbot/flowbot/bots"
)

// NewsCard is a news_notice template card: WeCom's card with a picture
// (card_image, fetched from its URL) and a card_action that opens a link.
// It takes no buttons, so only a card with a picture and neither buttons
// nor inputs (the monthly report) is sent as one.
type NewsCard struct {
	CardType   string     `json:"card_type"`
	MainTitle  MainTitle  `json:"main_title"`
	CardImage  CardImage  `json:"card_image"`
	SubTitle   string     `json:"sub_title_text,omitempty"`
	Horizontal []KeyValue `json:"horizontal_content_list,omitempty"`
	JumpList   []Jump     `json:"jump_list,omitempty"`
	CardAction CardAction `json:"card_action"`
	TaskID     string     `json:"task_id,omitempty"`
}

// CardImage is a news_notice card's picture; AspectRatio is width over
// height (1.3 to 2.25).
type CardImage struct {
	URL         string  `json:"url"`
	AspectRatio float64 `json:"aspect_ratio"`
}

// CardAction is what a click on the card opens (type 1: url).
type CardAction struct {
	Type int    `json:"type"`
	URL  string `json:"url"`
}

// chartAspect is the aspect ratio of charts.Health's pictures (720 × 520).
const chartAspect = 1.38

// renderNews renders c as a news_notice card when it has a picture at an
// https URL (WeCom fetches it) and no buttons or inputs; ok false: send c
// as a button_interaction card, where its picture is a jump link.
func renderNews(c bots.Card, taskID string) (NewsCard, bool) {
	img := c.Image
	if img == nil || !strings.HasPrefix(img.URL, "https://") || len(img.URL) > maxURLBytes || len(c.Buttons) > 0 || len(c.Inputs) > 0 {
		return NewsCard{}, false
	}
	tc, err := RenderCard(bots.Card{Title: c.Title, Color: c.Color, Fields: c.Fields, Markdown: c.Markdown, Note: c.Note, Links: c.Links}, taskID)
	if err != nil {
		return NewsCard{}, false
	}
	// A click on the card opens the first link (the full report), or the
	// picture.
	action := img.URL
	if len(tc.JumpList) > 0 {
		action = tc.JumpList[0].URL
	}
	return NewsCard{
		CardType: "news_notice", MainTitle: tc.MainTitle, SubTitle: tc.SubTitle, Horizontal: tc.Horizontal, JumpList: tc.JumpList,
		CardImage: CardImage{URL: img.URL, AspectRatio: chartAspect}, CardAction: CardAction{Type: 1, URL: action}, TaskID: taskID,
	}, true
}

// imageJump is a card picture as a jump_list link, for cards that cannot
// show it (buttons, inputs, or no https URL).
func imageJump(img *bots.Image) []bots.Link {
	if img == nil || !(strings.HasPrefix(img.URL, "https://") || strings.HasPrefix(img.URL, "http://")) {
		return nil
	}
	return []bots.Link{{Label: img.Alt, URL: img.URL}}
}
