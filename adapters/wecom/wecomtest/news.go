package wecomtest

import "strings"

// checkNews checks a news_notice card (a card with a picture) as WeCom
// does; "" when ok.
func checkNews(c map[string]any) string {
	mt, _ := c["main_title"].(map[string]any)
	if mt == nil || mt["title"] == "" {
		return "main_title.title missing"
	}
	img, _ := c["card_image"].(map[string]any)
	u, _ := img["url"].(string)
	if !strings.HasPrefix(u, "https://") && !strings.HasPrefix(u, "http://") {
		return "card_image.url must be an http(s) url"
	}
	if r, ok := img["aspect_ratio"].(float64); ok && (r < 1.3 || r > 2.25) {
		return "card_image.aspect_ratio must be 1.3 to 2.25"
	}
	act, _ := c["card_action"].(map[string]any)
	if t, _ := act["type"].(float64); t != 1 {
		return "card_action.type must be 1 (url) here"
	}
	if au, _ := act["url"].(string); !strings.HasPrefix(au, "https://") && !strings.HasPrefix(au, "http://") {
		return "card_action.url missing"
	}
	if _, ok := c["button_list"]; ok {
		return "news_notice takes no button_list"
	}
	if task, ok := c["task_id"].(string); ok && !taskIDRe.MatchString(task) {
		return "invalid task_id"
	}
	if jl, _ := c["jump_list"].([]any); len(jl) > 3 {
		return "jump_list has more than 3 items"
	}
	return ""
}
