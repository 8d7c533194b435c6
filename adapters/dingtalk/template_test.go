package dingtalk_test

import (
	"encoding/json"
	"os"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/adapters/adaptertest"
	"github.com/flowbot/flowbot/adapters/dingtalk"
	"github.com/flowbot/flowbot/bots"
)

// TestTemplateDeclaresEveryParam: every variable the adapter sends is
// declared by the template shipped in template/ (and the other way round).
func TestTemplateDeclaresEveryParam(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile("template/flowbot_approval.json")
	require.NoError(t, err)
	var tpl struct {
		Variables []struct{ Name string } `json:"variables"`
	}
	require.NoError(t, json.Unmarshal(b, &tpl))
	declared := map[string]bool{}
	for _, v := range tpl.Variables {
		declared[v.Name] = true
	}
	sent := map[string]bool{"toast": true, "toast_kind": true}
	cards := adaptertest.SampleCards()
	full := adaptertest.InputKindsCard()
	full.Inputs = append(full.Inputs, bots.Input{Name: "k_more", Label: "12th"})
	cards["twelve_inputs"] = full
	for _, c := range cards {
		out, err := dingtalk.RenderCard(c, "s")
		require.NoError(t, err)
		var m struct{ CardParamMap map[string]string }
		require.NoError(t, json.Unmarshal(out, &m))
		for k := range m.CardParamMap {
			require.True(t, declared[k], "param %q is not in the template", k)
			sent[k] = true
		}
	}
	for k := range declared {
		require.True(t, sent[k], "template variable %q is never sent", k)
	}
}
