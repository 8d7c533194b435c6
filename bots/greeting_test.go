package bots_test

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// Defect 8: a first-time user saying hello is greeted and pointed at
// /help, not told that a conversation they never had has ended.
func TestFirstHelloIsGreeted(t *testing.T) {
	t.Parallel()
	tests := []struct {
		user, text, want string
	}{
		{"dev2", "hello", "Hello"},
		{"dev2", "Hi!", "Hello"},
		{"dev1", "你好", "你好"},
		{"dev1", "在吗", "你好"},
	}
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			got := text(b.say(t, tt.user, tt.text))
			require.Contains(t, got, tt.want)
			require.Contains(t, got, "/help")
			require.NotContains(t, got, "ended", "got %q: no conversation existed", got)
			require.NotContains(t, got, "超时", "got %q: no conversation existed", got)
		})
	}
}

// Text that is no command from a user who never had a conversation does
// not mention an ended conversation; after one, it does.
func TestNotUnderstoodMentionsEndedConversationOnlyAfterOne(t *testing.T) {
	t.Parallel()
	b := setup(t)
	got := text(b.say(t, "dev2", "purple monkey"))
	require.Contains(t, got, "did not understand")
	require.NotContains(t, got, "ended", "got %q: no conversation existed", got)
	b.say(t, "dev2", "/leave")
	b.say(t, "dev2", "/cancel")
	got = text(b.say(t, "dev2", "purple monkey"))
	require.Contains(t, got, "ended", "got %q: the user had a conversation", got)
}
