package feishu_test

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/adapters/feishu"
	"github.com/flowbot/flowbot/bots"
)

// nastyCard puts s everywhere user text reaches a card: a field's label
// and value, the bot's markdown (a comment quoted in a line), the note, an
// attachment's name, an input's error and an option.
func nastyCard(s string) bots.Card {
	return bots.Card{
		Title:    s,
		Fields:   []bots.Field{{Label: s, Value: s}, {Label: "申请人", Value: s}},
		Markdown: "**事由**：" + s + "\n- 李雷 评论：" + s,
		Note:     "Approved by " + s,
		Links:    []bots.Link{{Label: s, URL: "https://flowbot.example.com/files/x"}},
		Inputs: []bots.Input{
			{Name: "comment", Label: s, Error: s},
			{Name: "pick", Label: s, Kind: bots.InputSelect, Options: []bots.Option{{Value: "a", Label: s}}},
		},
		Buttons: []bots.Button{{Label: s, Action: "approve", Value: map[string]string{"c": s}}, {Label: "Cancel", Action: "cancel"}},
	}
}

// live finds markup a user could inject into Feishu's card markdown: a
// mention, a link, HTML (other than the renderer's own font tags), code,
// strike-through.
var live = regexp.MustCompile(`(?i)<at\b|</at>|\]\(|<a\b|<img|<(?:/?)(?:b|i|u|s|br|hr|p|div|span|link)\b|~~|` + "`" + `|<font color=(?:'|")?(?:red|green)?[^'"]`)

// markdownOf returns the content of every markdown component of card.
func markdownOf(card map[string]any) []string {
	var out []string
	for _, c := range components(card) {
		if c.el["tag"] == "markdown" {
			out = append(out, c.el["content"].(string))
		}
	}
	return out
}

// checkNoInjection renders the nasty card of s and fails when s became
// markup, or the card breaks Feishu's limits.
func checkNoInjection(t *testing.T, s string) {
	b, err := feishu.RenderCard(nastyCard(s))
	require.NoError(t, err)
	var card map[string]any
	require.NoError(t, json.Unmarshal(b, &card), "the card is JSON")
	require.LessOrEqual(t, len(components(card)), feishu.MaxCardComponents)
	require.LessOrEqual(t, feishu.CardRequestBytes(b), feishu.MaxCardBytes)
	for _, md := range markdownOf(card) {
		// The renderer's own wrappers are the only HTML.
		own := strings.NewReplacer("<font color='grey'>", "", "<font color='red'>", "", "</font>", "").Replace(md)
		if label, ok := strings.CutPrefix(own, "📎 ["); ok {
			// The attachment's own link: its label is one line of text.
			label, ok = strings.CutSuffix(label, "](https://flowbot.example.com/files/x)")
			require.True(t, ok, "the attachment link stays one link: %q", md)
			require.NotContains(t, label, "\n", "a link label is one line: %q", md)
			own = label
		}
		require.NotRegexp(t, live, own, "user text %q became markup in %q", s, md)
		require.NotContains(t, own, "<", "user text %q left a raw < in %q", s, md)
	}
	// The form's submit buttons are in the form; Cancel is outside it.
	var form map[string]any
	for _, c := range components(card) {
		if c.el["tag"] == "form" {
			form = c.el
		}
	}
	require.NotNil(t, form)
	for _, c := range components(card) {
		if c.el["tag"] != "button" {
			continue
		}
		v := c.el["behaviors"].([]any)[0].(map[string]any)["value"].(map[string]any)
		if v["a"] == "cancel" {
			require.False(t, c.inForm, "Cancel is outside the form")
		} else {
			require.True(t, c.inForm, "a submit button is inside the form")
			require.Equal(t, "submit", c.el["form_action_type"])
		}
	}
}

// A name, a comment or a label that looks like markup shows as itself on
// a Feishu card: no mention of everyone, no link, no HTML, no bold of its
// own, wherever it appears (fields, the bot's markdown, the note, links,
// inputs).
func TestRenderNastyUserText(t *testing.T) {
	t.Parallel()
	for _, s := range []string{
		"*boss*", "**boss**", "<at id=all></at>", "<at user_id=\"ou_x\">王总</at>", "[x](y)", "[领取红包](https://evil.example.com)",
		"<font color='red'>紧急</font>", "<a href='x'>x</a>", "~~gone~~", "`code`", "\\", `"f0"\`, "# 标题", "- item", "1. first",
		"&lt;at id=all&gt;", "<img src=x>", "]](", "<<at id=all>>", "\\<at id=all\\>", "line\n# two\n- three",
	} {
		t.Run(s, func(t *testing.T) {
			t.Parallel()
			checkNoInjection(t, s)
		})
	}
	// In the bot's markdown the user's emphasis stays as text.
	_, raw := mustRender(t, bots.Card{Title: "t", Markdown: "李雷 评论：<at id=all></at> [x](y)"})
	require.Contains(t, raw, "&lt;at id=all&gt;&lt;/at&gt; &#91;x&#93;(y)")
}

func FuzzRenderUserText(f *testing.F) {
	for _, s := range []string{"*boss*", "<at id=all></at>", "[x](y)", `"f0"\`, "# h\n- l\n1. n", "~~x~~", "&amp;<"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if len(s) > 2000 {
			return
		}
		checkNoInjection(t, s)
	})
}
