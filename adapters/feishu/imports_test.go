package feishu_test

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestImports keeps the arrows pointing inward: the adapter and its fake
// import only bots of this module (the fake not even that).
func TestImports(t *testing.T) {
	t.Parallel()
	tests := []struct {
		pkg     string
		allowed []string
	}{
		{"github.com/flowbot/flowbot/adapters/feishu", []string{"github.com/flowbot/flowbot/bots"}},
		{"github.com/flowbot/flowbot/adapters/feishu/feishutest", nil},
		{"github.com/flowbot/flowbot/adapters/adaptertest", []string{"github.com/flowbot/flowbot/bots"}},
	}
	for _, tt := range tests {
		out, err := exec.Command("go", "list", "-e", "-f", `{{join .Imports "\n"}}`, tt.pkg).CombinedOutput()
		require.NoError(t, err, "%s", out)
		for _, imp := range strings.Fields(string(out)) {
			if strings.HasPrefix(imp, "github.com/flowbot/flowbot/") {
				require.Contains(t, tt.allowed, imp, "%s may not import %s", tt.pkg, imp)
			}
		}
	}
}
