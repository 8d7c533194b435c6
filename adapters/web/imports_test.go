package web_test

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestImports keeps the arrows pointing inward: the adapter imports bots,
// never flows, a store or another adapter.
func TestImports(t *testing.T) {
	t.Parallel()
	out, err := exec.Command("go", "list", "-e", "-f", `{{join .Imports "\n"}}`, "github.com/flowbot/flowbot/adapters/web").CombinedOutput()
	require.NoError(t, err, "%s", out)
	for _, imp := range strings.Fields(string(out)) {
		if !strings.HasPrefix(imp, "github.com/flowbot/flowbot/") {
			continue
		}
		require.Equal(t, "github.com/flowbot/flowbot/bots", imp, "adapters/web may import only bots of this module")
	}
}
