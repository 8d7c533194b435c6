package dingtalk_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/adapters/adaptertest"
	"github.com/flowbot/flowbot/adapters/dingtalk"
)

var update = flag.Bool("update", false, "rewrite golden files")

// TestGoldenCards compares the cardParamMap of the sample cards (and
// their text-only rendering) with testdata/golden.
func TestGoldenCards(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"task", "approved", "reject_input", "form", "input_kinds", "six_buttons", "attachments"} {
		c := adaptertest.SampleCards()[name]
		b, err := dingtalk.RenderCard(c, "golden-secret")
		require.NoError(t, err)
		var out bytes.Buffer
		require.NoError(t, json.Indent(&out, b, "", "  "))
		out.WriteString("\n")
		check(t, filepath.Join("testdata", "golden", name+".json"), out.Bytes())
		check(t, filepath.Join("testdata", "golden", name+".md"), []byte(dingtalk.RenderText(c)+"\n"))
	}
}

func check(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		require.NoError(t, os.WriteFile(path, got, 0o644))
		return
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "run go test -update to create %s", path)
	require.Equal(t, string(want), string(got), "%s differs (go test -update rewrites it)", path)
}
