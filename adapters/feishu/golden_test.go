package feishu_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/adapters/feishu"
)

var update = flag.Bool("update", false, "rewrite testdata/golden/*.json")

// TestGoldenCards compares the card JSON of each sample card with
// testdata/golden/<name>.json; run with -update to accept changes.
func TestGoldenCards(t *testing.T) {
	t.Parallel()
	for name, c := range samples() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			b, err := feishu.RenderCard(c)
			require.NoError(t, err)
			var out bytes.Buffer
			require.NoError(t, json.Indent(&out, b, "", "  "))
			out.WriteByte('\n')
			path := filepath.Join("testdata", "golden", name+".json")
			if *update {
				require.NoError(t, os.WriteFile(path, out.Bytes(), 0o644))
			}
			want, err := os.ReadFile(path)
			require.NoError(t, err, "run go test -run TestGoldenCards -update")
			require.Equal(t, string(want), out.String(), "card %s differs from %s", name, path)
		})
	}
}

func TestRenderCardShape(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		check func(t *testing.T, card map[string]any, raw string)
	}{
		{"task", func(t *testing.T, card map[string]any, raw string) {
			require.Equal(t, "2.0", card["schema"])
			require.Equal(t, true, card["config"].(map[string]any)["update_multi"])
			require.Equal(t, "blue", card["header"].(map[string]any)["template"])
			require.Contains(t, raw, `"tag":"form"`, "inputs live in a form")
			require.Contains(t, raw, `"form_action_type":"submit"`, "buttons submit the form")
			require.Contains(t, raw, `"text_size":"notation"`, "the note is a small footer")
		}},
		{"reject_input", func(t *testing.T, card map[string]any, raw string) {
			require.Contains(t, raw, "<font color='red'>请填写拒绝理由 / A reason is required</font>")
		}},
		{"six_buttons", func(t *testing.T, card map[string]any, raw string) {
			require.NotContains(t, raw, `"tag":"form"`)
			require.Contains(t, raw, `"behaviors":[{"type":"callback","value":{"a":"approve","v":{"i":"0","task":"42"}}}]`)
		}},
		{"long", func(t *testing.T, card map[string]any, raw string) {
			require.LessOrEqual(t, len(raw), feishu.MaxCardBytes)
			require.Contains(t, raw, "…", "cut text is marked")
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b, err := feishu.RenderCard(samples()[tt.name])
			require.NoError(t, err)
			var card map[string]any
			require.NoError(t, json.Unmarshal(b, &card))
			tt.check(t, card, string(b))
		})
	}
}

func TestRenderEscapesUserText(t *testing.T) {
	t.Parallel()
	c := samples()["approved"]
	c.Fields = append(c.Fields, feishuField("Reason", "<at id=all></at> [click](http://evil) **x**"))
	b, err := feishu.RenderCard(c)
	require.NoError(t, err)
	require.NotContains(t, string(b), "<at id=all>", "a field value cannot mention everyone")
	require.NotContains(t, string(b), "[click](", "nor become a link")
}
