package web_test

import (
	"testing"
)

// Defect 18 and 11 in the browser, in English: /mine lists requests with
// dates and buttons that open them; the confirmation card names the keys.
func TestBrowserMineAndHints(t *testing.T) {
	t.Parallel()
	browser := newBrowser(t)
	s := setupStory(t)
	s.drainLoop(t)
	tom := openTab(t, browser, s.srv.URL+"/?as=tom")

	say(t, tom, "/leave type=annual period=2026-12-01~2026-12-02 reason=trip")
	waitJS(t, tom, "summary card", `!!document.querySelector('[data-testid="card-button-submit"]')`)
	waitJS(t, tom, "hint names the keys", lastBotCardJS+`.textContent.includes("type (Leave type), period, reason")`)
	screenshot(t, tom, "confirm-keys-en")
	click(t, tom, "card-button-submit")
	waitJS(t, tom, "summary replaced", `!document.querySelector('[data-testid="card-button-submit"]')`)

	say(t, tom, "/mine")
	waitJS(t, tom, "mine card", lastBotCardJS+`.textContent.includes("filed 2026-11-26")`)
	screenshot(t, tom, "mine-en")
	evalJS(t, tom, lastBotCardJS+`.querySelector('[data-testid="card-button-view"]').click()`)
	waitJS(t, tom, "the request opens", lastBotCardJS+`.textContent.includes("Timeline") || `+lastBotCardJS+`.textContent.includes("Route")`)
	screenshot(t, tom, "mine-opened-en")
}
