package feishu_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/adapters/adaptertest"
	"github.com/flowbot/flowbot/bots"
)

// imgOf returns the img elements of a sent card.
func imgOf(card map[string]any) []map[string]any {
	var out []map[string]any
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			if x["tag"] == "img" {
				out = append(out, x)
			}
			for _, y := range x {
				walk(y)
			}
		case []any:
			for _, y := range x {
				walk(y)
			}
		}
	}
	walk(card)
	return out
}

func TestReportCardCarriesItsChart(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{})
	ctx := context.Background()
	card, img := adaptertest.ReportCard(t)
	ref, err := b.adapter.Send(ctx, bots.Recipient{App: b.app.ID, UserID: "ou_sunli"}, bots.Message{Card: &card}, "owner-report-1")
	require.NoError(t, err)

	// The fake received the PNG as a message image, uploaded with the
	// app's token, and the card shows it by the returned image_key.
	ups := b.fake.Images()
	require.Len(t, ups, 1)
	require.Equal(t, b.app.ID, ups[0].AppID)
	require.Equal(t, "message", ups[0].Type)
	require.True(t, bytes.Equal(img.PNG, ups[0].Data), "the uploaded bytes are the chart")
	msgs := b.fake.Messages()
	require.Len(t, msgs, 1)
	imgs := imgOf(msgs[0].Card())
	require.Len(t, imgs, 1)
	require.Equal(t, ups[0].Key, imgs[0]["img_key"])
	require.Equal(t, card.Image.Alt, imgs[0]["alt"].(map[string]any)["content"])
	require.Contains(t, msgs[0].Content, adaptertest.ReportURL, "the full report stays linked")
	require.Empty(t, card.Image.PlatformKey, "the caller's card is not changed")

	// Updating the card shows the same picture without uploading it again.
	require.NoError(t, b.adapter.Update(ctx, ref, bots.Message{Card: &card}))
	require.Len(t, b.fake.Images(), 1)
	require.Equal(t, int32(1), img.Reads.Load())
	m, _ := b.fake.Message(strings.TrimPrefix(ref, b.app.ID+":"))
	require.Equal(t, ups[0].Key, imgOf(m.Card())[0]["img_key"])
}

func TestReportCardFallsBackToTheLink(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		open func(context.Context) (io.ReadCloser, error)
	}{
		{"unreadable", func(context.Context) (io.ReadCloser, error) { return nil, errors.New("blob store down") }},
		{"empty", func(context.Context) (io.ReadCloser, error) { return io.NopCloser(strings.NewReader("")), nil }},
		{"not an image", func(context.Context) (io.ReadCloser, error) {
			return io.NopCloser(strings.NewReader("<html>not a picture</html>")), nil
		}},
		{"no content at all", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, setupOpts{})
			card, _ := adaptertest.ReportCard(t)
			card.Image.Open = tt.open
			_, err := b.adapter.Send(context.Background(), bots.Recipient{App: b.app.ID, UserID: "ou_sunli"}, bots.Message{Card: &card}, "k")
			require.NoError(t, err, "a picture that cannot be shown does not stop the report")
			require.Empty(t, b.fake.Images())
			msgs := b.fake.Messages()
			require.Len(t, msgs, 1)
			require.Empty(t, imgOf(msgs[0].Card()))
			require.Contains(t, msgs[0].Content, "📊 ["+card.Image.Alt+"]("+adaptertest.ChartURL+")")
		})
	}
}

// TestFakeRefusesBadImages drives the fake's upload endpoint directly
// with what the SDK would never send.
func TestFakeRefusesBadImages(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{})
	tok := fakeToken(t, b)
	_, img := adaptertest.ReportCard(t)
	tests := []struct {
		name, token, imageType string
		data                   []byte
		contentType            string
		code                   int
	}{
		{"no token", "", "message", img.PNG, "", 99991661},
		{"bad token", "t-forged", "message", img.PNG, "", 99991663},
		{"bad image_type", tok, "sticker", img.PNG, "", 234001},
		{"empty image", tok, "message", []byte{}, "", 234010},
		{"not an image", tok, "message", []byte("%PDF-1.7 not an image"), "", 234011},
		{"json instead of multipart", tok, "message", img.PNG, "application/json", 99992402},
		{"too large", tok, "message", append(append([]byte{}, img.PNG...), make([]byte, 10<<20)...), "", 234006},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code := uploadRaw(t, b.fake.URL, tt.token, tt.imageType, tt.data, tt.contentType)
			require.Equal(t, tt.code, code)
		})
	}
	require.Empty(t, b.fake.Images(), "nothing refused was kept")

	// A card naming an image_key the app never uploaded is refused.
	card, _ := adaptertest.ReportCard(t)
	card.Image.PlatformKey = "img_v3_never_uploaded"
	card.Image.Open = nil
	_, err := b.adapter.Send(context.Background(), bots.Recipient{App: b.app.ID, UserID: "ou_sunli"}, bots.Message{Card: &card}, "k2")
	require.ErrorContains(t, err, "img_key")
	require.Empty(t, b.fake.Messages())
}

func fakeToken(t *testing.T, b *testBundle) string {
	t.Helper()
	resp, err := http.Post(b.fake.URL+"/open-apis/auth/v3/tenant_access_token/internal", "application/json",
		strings.NewReader(`{"app_id":"`+b.app.ID+`","app_secret":"`+b.app.Secret+`"}`))
	require.NoError(t, err)
	defer resp.Body.Close()
	var out struct {
		Token string `json:"tenant_access_token"`
	}
	require.NoError(t, jsonDecode(resp.Body, &out))
	require.NotEmpty(t, out.Token)
	return out.Token
}
