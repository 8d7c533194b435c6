package dircursor_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/adapters/internal/dircursor"
)

func TestRoundTrip(t *testing.T) {
	t.Parallel()
	for _, c := range []dircursor.Cursor{{}, {Page: "p2"}, {Users: true}, {Users: true, Dept: 3, Page: "x:y"}} {
		got, err := dircursor.Parse(c.String())
		require.NoError(t, err)
		require.Equal(t, c, got)
	}
}

func TestAfter(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		c    dircursor.Cursor
		next string
		n    int
		want string
	}{
		{"DeptsMore", dircursor.Cursor{}, "p2", 3, "d:p2"},
		{"DeptsDone", dircursor.Cursor{Page: "p2"}, "", 3, "u:0:"},
		{"NoDepts", dircursor.Cursor{}, "", 0, ""},
		{"UsersMore", dircursor.Cursor{Users: true, Dept: 1}, "t", 3, "u:1:t"},
		{"NextDept", dircursor.Cursor{Users: true, Dept: 1, Page: "t"}, "", 3, "u:2:"},
		{"AllDone", dircursor.Cursor{Users: true, Dept: 2}, "", 3, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, tt.c.After(tt.next, tt.n))
		})
	}
}

func TestParseRefusesBadCursors(t *testing.T) {
	t.Parallel()
	for _, s := range []string{"x", "d:", "u:", "u:-1:", "u:a:", "q:1"} {
		_, err := dircursor.Parse(s)
		require.Error(t, err, "%q", s)
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"", "d:p", "u:0:", "u:3:tok", "x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := dircursor.Parse(s)
		if err != nil {
			return
		}
		again, err := dircursor.Parse(c.String())
		require.NoError(t, err)
		require.Equal(t, c, again)
	})
}
