package bots_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// Defect 15 (wording): after a withdrawal the step that was waiting does
// not read as if its approver rejected it.
func TestWithdrawnRouteDoesNotReadAsRejected(t *testing.T) {
	t.Parallel()
	b := setup(t)
	out := b.submit(t, "dev1", 2)
	b.say(t, "dev1", "/withdraw "+out.Instance.Number)
	got := text(b.say(t, "dev1", "/status "+out.Instance.Number))
	require.Contains(t, got, "李雷")
	for _, line := range strings.Split(got, "\n") {
		if strings.Contains(line, "李雷") && strings.Contains(line, "上级审批") {
			require.NotContains(t, line, "✗", "got %q: reads as a rejection by 李雷", line)
			require.Contains(t, line, "撤回", "got %q", line)
		}
	}
}
