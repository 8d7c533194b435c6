package bots_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// Defect 5: a question bubble is plain text (no raw markdown), and a
// text field whose definition gives no example gets no made-up one.
func TestQuestionBubblesArePlainText(t *testing.T) {
	t.Parallel()
	b := setup(t)
	var asked []string
	for _, say := range []string{"/leave", "1", "2026-12-01~2026-12-02"} {
		asked = append(asked, text(b.say(t, "dev1", say)))
	}
	for _, q := range asked {
		require.NotContains(t, q, "**", "got %q", q)
	}
	reason := asked[2]
	require.Contains(t, reason, "事由", "got %q: the third question is the reason", reason)
	require.NotContains(t, reason, "家里有事", "got %q: an example the field does not give", reason)
	require.True(t, strings.Contains(asked[1], "2026-12-01"), "a date range still shows its format: %q", asked[1])
}
