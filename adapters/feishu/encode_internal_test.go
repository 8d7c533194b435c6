package feishu

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"
)

// encodeCard gives encoding/json's bytes (HTML escaping off), whatever the
// strings hold: what Feishu receives must not change with the encoder.
func TestEncodeCardIsEncodingJSON(t *testing.T) {
	t.Parallel()
	strs := []string{"", "plain", "中文 ok", `quote " and \ backslash`, "line\nbreak\ttab\r", "<b>&amp;</b>", "\u2028 and \u2029",
		"bad \xff utf-8", "\x00\x1f\x7f", "emoji 😀", "中\"文"}
	for _, s := range strs {
		card := map[string]any{
			"schema": "2.0", s: s, "n": 3, "flag": true, "none": nil, "f": 1.5,
			"body":   map[string]any{"elements": []any{map[string]any{"tag": "markdown", "content": s}, []any{}, []any(nil)}},
			"values": map[string]string{"z": s, "a": "x"}, "nilmap": map[string]any(nil), "other": []string{s},
		}
		var want bytes.Buffer
		enc := json.NewEncoder(&want)
		enc.SetEscapeHTML(false)
		require.NoError(t, enc.Encode(card))
		got, err := encodeCard(card)
		require.NoError(t, err)
		require.Equal(t, string(bytes.TrimSuffix(want.Bytes(), []byte("\n"))), string(got), "string %q", s)
	}
}

func FuzzEncodeCard(f *testing.F) {
	for _, s := range []string{"", "a", "中\"文", "\u2028", "\xff", "<&>"} {
		f.Add(s, s)
	}
	f.Fuzz(func(t *testing.T, k, v string) {
		card := map[string]any{k: v, "e": []any{map[string]any{"content": v, k: true}}, "m": map[string]string{v: k}}
		var want bytes.Buffer
		enc := json.NewEncoder(&want)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(card); err != nil {
			t.Skip()
		}
		got, err := encodeCard(card)
		if err != nil {
			t.Fatalf("encodeCard: %v", err)
		}
		if string(got) != string(bytes.TrimSuffix(want.Bytes(), []byte("\n"))) {
			t.Fatalf("encodeCard(%q, %q) = %s, encoding/json %s", k, v, got, want.Bytes())
		}
	})
}
