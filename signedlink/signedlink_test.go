package signedlink_test

import (
	"strings"
	"testing"

	"github.com/flowbot/flowbot/signedlink"
	"github.com/stretchr/testify/require"
)

type grant struct {
	Who string `json:"u"`
	N   int    `json:"n"`
}

func TestOpenRefusesWhatWasNotSealed(t *testing.T) {
	t.Parallel()
	secret := []byte(strings.Repeat("k", 32))
	c := signedlink.New(secret, "kind-a", 256)
	tok, err := c.Seal(grant{Who: "u1", N: 7})
	require.NoError(t, err)
	var g grant
	require.NoError(t, c.Open(tok, &g))
	require.Equal(t, grant{Who: "u1", N: 7}, g)

	payload, sig, _ := strings.Cut(tok, ".")
	other, err := signedlink.New(secret, "kind-b", 256).Seal(grant{Who: "u1", N: 7})
	require.NoError(t, err)
	tests := []struct {
		name  string
		token string
		want  error
	}{
		{"other kind, same secret", other, signedlink.ErrForged},
		{"other secret", mustSeal(t, signedlink.New([]byte(strings.Repeat("x", 32)), "kind-a", 256)), signedlink.ErrForged},
		{"payload altered", flip(payload) + "." + sig, signedlink.ErrForged},
		{"no signature", payload, signedlink.ErrMalformed},
		{"empty", "", signedlink.ErrMalformed},
		{"two dots", tok + ".x", signedlink.ErrMalformed},
		{"signature not base64", payload + ".!!", signedlink.ErrMalformed},
		{"too long", strings.Repeat("a", 300) + "." + sig, signedlink.ErrMalformed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var g grant
			err := c.Open(tc.token, &g)
			require.ErrorIs(t, err, tc.want)
			require.Zero(t, g, "a refused token decodes nothing")
		})
	}
}

func mustSeal(t *testing.T, c signedlink.Codec) string {
	t.Helper()
	tok, err := c.Seal(grant{Who: "u1", N: 7})
	require.NoError(t, err)
	return tok
}

func FuzzOpen(f *testing.F) {
	c := signedlink.New([]byte(strings.Repeat("k", 32)), "kind-a", 512)
	tok, _ := c.Seal(grant{Who: "u1"})
	f.Add(tok)
	f.Add("a.b")
	f.Add("")
	f.Fuzz(func(t *testing.T, token string) {
		var g grant
		if err := c.Open(token, &g); err != nil {
			require.Zero(t, g, "a refused token decodes nothing")
		}
	})
}

// flip changes the payload's first character.
func flip(payload string) string {
	if payload[0] == 'f' {
		return "g" + payload[1:]
	}
	return "f" + payload[1:]
}
