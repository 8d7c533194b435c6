package wecom_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/adapters/adaptertest"
	"github.com/flowbot/flowbot/adapters/wecom"
	"github.com/flowbot/flowbot/bots"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// TestGoldenCards compares the send body of every sample card with
// testdata/golden/<name>.json (rewrite with -update).
func TestGoldenCards(t *testing.T) {
	t.Parallel()
	for name, c := range adaptertest.SampleCards() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			raw, err := wecom.RenderSend(1000002, "LiLei", bots.Message{Card: &c}, "fb-golden")
			require.NoError(t, err)
			var buf bytes.Buffer
			require.NoError(t, json.Indent(&buf, raw, "", "  "))
			buf.WriteByte('\n')
			path := filepath.Join("testdata", "golden", name+".json")
			if *update {
				require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
				require.NoError(t, os.WriteFile(path, buf.Bytes(), 0o644))
				return
			}
			want, err := os.ReadFile(path)
			require.NoError(t, err, "run go test -update to create it")
			require.Equal(t, string(want), buf.String())
		})
	}
}
