package teams_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/adapters/adaptertest"
	"github.com/flowbot/flowbot/adapters/teams"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// TestRenderGolden: the Adaptive Cards of the sample cards, as sent.
func TestRenderGolden(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"task", "approved", "reject_input", "form", "input_kinds", "withdrawn", "attachments"} {
		c := adaptertest.SampleCards()[name]
		b, err := teams.RenderCard(c)
		require.NoError(t, err)
		var out bytes.Buffer
		require.NoError(t, json.Indent(&out, b, "", "  "))
		out.WriteByte('\n')
		path := filepath.Join("testdata", name+".golden.json")
		if *update {
			require.NoError(t, os.MkdirAll("testdata", 0o755))
			require.NoError(t, os.WriteFile(path, out.Bytes(), 0o644))
			continue
		}
		want, err := os.ReadFile(path)
		require.NoError(t, err, "run go test -update to create %s", path)
		require.Equal(t, string(want), out.String(), "%s differs; rerun with -update if intended", path)
	}
}

// TestRenderEveryInputKindNatively: each input kind gets Teams' native
// widget.
func TestRenderEveryInputKindNatively(t *testing.T) {
	t.Parallel()
	b, err := teams.RenderCard(adaptertest.InputKindsCard())
	require.NoError(t, err)
	var card struct {
		Body []map[string]any `json:"body"`
	}
	require.NoError(t, json.Unmarshal(b, &card))
	types := map[string]string{}
	for _, el := range card.Body {
		if id, ok := el["id"].(string); ok {
			types[id] = el["type"].(string)
		}
	}
	require.Equal(t, map[string]string{
		"k_text": "Input.Text", "k_area": "Input.Text", "k_num": "Input.Number", "k_money": "Input.Text",
		"k_date": "Input.Date", "k_range__from": "Input.Date", "k_range__to": "Input.Date",
		"k_select": "Input.ChoiceSet", "k_multi": "Input.ChoiceSet", "k_user": "Input.ChoiceSet",
		"k_file": "Input.Text", "k_bool": "Input.Toggle",
	}, types)
}
