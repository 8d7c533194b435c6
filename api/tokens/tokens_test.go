package tokens_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/api/tokens"
)

func TestParseScopes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want []string
		ok   bool
	}{
		{"read", []string{"read"}, true},
		{" write , flow:leave,write", []string{"flow:leave", "write"}, true},
		{"admin,flow:expense-2", []string{"admin", "flow:expense-2"}, true},
		{"", nil, false},
		{",,", nil, false},
		{"root", nil, false},
		{"flow:", nil, false},
		{"flow:Leave", nil, false},
		{"flow:a b", nil, false},
		{"read;write", nil, false},
	}
	for _, tt := range tests {
		got, err := tokens.ParseScopes(tt.in)
		require.Equal(t, tt.ok, err == nil, "%q: %v", tt.in, err)
		require.Equal(t, tt.want, got, "%q", tt.in)
	}
}

func TestScopeRules(t *testing.T) {
	t.Parallel()
	tests := []struct {
		scopes             []string
		read, write, admin bool
		leave, expense     bool
	}{
		{[]string{"read"}, true, false, false, true, true},
		{[]string{"write"}, true, true, false, true, true},
		{[]string{"admin"}, true, true, true, true, true},
		{[]string{"flow:leave"}, false, false, false, true, false},
		{[]string{"write", "flow:leave"}, true, true, false, true, false},
	}
	for _, tt := range tests {
		tok := &tokens.Token{Scopes: tt.scopes}
		require.Equal(t, tt.read, tok.Allows(tokens.ScopeRead), "%v read", tt.scopes)
		require.Equal(t, tt.write, tok.Allows(tokens.ScopeWrite), "%v write", tt.scopes)
		require.Equal(t, tt.admin, tok.Allows(tokens.ScopeAdmin), "%v admin", tt.scopes)
		require.Equal(t, tt.leave, tok.AllowsFlow("leave"), "%v leave", tt.scopes)
		require.Equal(t, tt.expense, tok.AllowsFlow("expense"), "%v expense", tt.scopes)
	}
}

func TestNewToken(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 4, 9, 0, 0, 0, time.UTC)
	tok, secret, err := tokens.New(tokens.NewParams{Name: "erp", Scopes: []string{"read"}, TTL: time.Hour, Now: now})
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(secret, tokens.SecretPrefix))
	require.GreaterOrEqual(t, len(secret), 40, "high-entropy secret")
	require.Equal(t, tokens.Hash(secret), tok.Hash)
	require.NotContains(t, tok.Hash, secret)
	require.NoError(t, tok.Usable(now.Add(59*time.Minute)))
	require.ErrorIs(t, tok.Usable(now.Add(time.Hour)), tokens.ErrExpired)
	_, secret2, err := tokens.New(tokens.NewParams{Name: "erp", Scopes: []string{"read"}, Now: now})
	require.NoError(t, err)
	require.NotEqual(t, secret, secret2)
	for _, bad := range []tokens.NewParams{
		{Name: "", Scopes: []string{"read"}},
		{Name: "x\n", Scopes: []string{"read"}},
		{Name: strings.Repeat("x", 101), Scopes: []string{"read"}},
		{Name: "x"},
		{Name: "x", Scopes: []string{"read"}, TTL: -time.Hour},
	} {
		_, _, err := tokens.New(bad)
		require.Error(t, err, "%+v", bad)
	}
}

// FuzzParseScopes: whatever the input, a parsed list holds only known
// scopes, sorted and without duplicates, and parses back to itself.
func FuzzParseScopes(f *testing.F) {
	f.Add("read,write")
	f.Add("flow:leave, admin")
	f.Add("flow:,")
	f.Fuzz(func(t *testing.T, s string) {
		got, err := tokens.ParseScopes(s)
		if err != nil {
			return
		}
		again, err := tokens.ParseScopes(strings.Join(got, ","))
		if err != nil || strings.Join(again, ",") != strings.Join(got, ",") {
			t.Fatalf("%q parsed to %v, which parses to %v, %v", s, got, again, err)
		}
		for i, sc := range got {
			if sc != "read" && sc != "write" && sc != "admin" && !strings.HasPrefix(sc, "flow:") {
				t.Fatalf("%q gave unknown scope %q", s, sc)
			}
			if i > 0 && got[i-1] >= sc {
				t.Fatalf("%q gave unsorted or duplicate scopes %v", s, got)
			}
		}
	})
}
