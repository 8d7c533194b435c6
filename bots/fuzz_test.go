package bots_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/bots"
)

func TestParseCommand(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in    string
		want  bots.Command
		error bool
	}{
		{"/Leave", bots.Command{Name: "leave", Slash: true}, false},
		{"／请假 days=3", bots.Command{Name: "请假", Slash: true, Args: map[string]string{"days": "3"}}, false},
		{`leave Reason="a b" x＝“c d” it's`, bots.Command{Name: "leave", Args: map[string]string{"reason": "a b", "x": "c d"}, Words: []string{"it's"}}, false},
		{"/status  LEAVE-1 ", bots.Command{Name: "status", Slash: true, Words: []string{"LEAVE-1"}}, false},
		{"/=x", bots.Command{Name: "=x", Slash: true}, false},
		{"/a=b c", bots.Command{Slash: true, Args: map[string]string{"a": "b"}, Words: []string{"c"}}, false},
		{`/leave reason="abc`, bots.Command{Slash: true}, true},
		{"", bots.Command{}, false},
	}
	for _, tt := range tests {
		got, err := bots.ParseCommand(tt.in)
		if tt.error {
			require.ErrorIs(t, err, bots.ErrUnclosedQuote, tt.in)
		} else {
			require.NoError(t, err, tt.in)
		}
		require.Equal(t, tt.want, got, tt.in)
	}
}

func FuzzParseCommand(f *testing.F) {
	for _, s := range []string{"/leave type=annual reason=\"a b\"", "请假 类型＝年假", "/status x", "“", "a=b=c", "/"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := bots.ParseCommand(s)
		if err != nil {
			require.ErrorIs(t, err, bots.ErrUnclosedQuote)
			return
		}
		require.Equal(t, c.Name, strings.ToLower(c.Name))
		if utf8.ValidString(s) {
			for k := range c.Args {
				require.True(t, utf8.ValidString(k))
			}
		}
	})
}

// FuzzHandleText: no message, however odd, panics or fails internally.
func FuzzHandleText(f *testing.F) {
	b := setup(f)
	for _, s := range []string{"/leave type=annual period=2026-12-01~2026-12-02", "1", "跳过", "/status 1", "/x", "\x00", "提交", "type=sick", "事由", "/resubmit 1", "/mine 审批中", "/mine x", "/copy 1", "/status 1 2", "Type=sick", "/leave Leave type=1", "@cto"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		rep, err := b.bot.Handle(b.ctx, b.msg("dev1", s))
		require.NoError(t, err)
		require.NotEmpty(t, text(rep))
	})
}
