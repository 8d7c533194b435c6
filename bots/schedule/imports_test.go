package schedule_test

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestImports keeps the arrows pointing inward: the chat layer's packages
// import only flows/... of this module, flowstats only flows and flowdef.
func TestImports(t *testing.T) {
	t.Parallel()
	cases := []struct {
		pkg     string
		allowed []string
	}{
		{"bots/schedule", []string{"bots", "flows", "flows/flowdef", "flows/flowstats"}},
		{"bots/notify", []string{"bots", "flows"}},
		{"flows/flowstats", []string{"flows", "flows/flowdef"}},
	}
	const mod = "github.com/flowbot/flowbot/"
	for _, tc := range cases {
		out, err := exec.Command("go", "list", "-e", "-f", `{{join .Imports "\n"}}`, mod+tc.pkg).CombinedOutput()
		require.NoError(t, err, "%s", out)
		for _, imp := range strings.Fields(string(out)) {
			if rest, ok := strings.CutPrefix(imp, mod); ok {
				require.Contains(t, tc.allowed, rest, "%s may not import %s", tc.pkg, imp)
			}
		}
	}
}
