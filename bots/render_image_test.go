package bots_test

import (
	"bytes"
	"context"
	"io"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/blobs"
	"github.com/flowbot/flowbot/bots"
	"github.com/flowbot/flowbot/flows"
	"github.com/flowbot/flowbot/internal/testkit"
)

// openingFiles is blobFiles that also opens kept pictures (as
// cmd/flowbot's does).
type openingFiles struct{ *blobFiles }

func (f openingFiles) Open(ctx context.Context, key string) (io.ReadCloser, error) {
	return f.store.Open(ctx, key)
}

// TestRenderReportImage: the owner report's message names its chart; the
// card carries it with the description in the viewer's language, and its
// content from the blob store for platforms that upload it.
func TestRenderReportImage(t *testing.T) {
	t.Parallel()
	b, files := setupFiles(t)
	b.bot = bots.New(bots.Config{Engine: b.engine, Store: b.db, State: b.state, Dedupe: testkit.NewMemDedupe(), AdminContact: admin, Files: openingFiles{files}})
	key := blobs.NewKey()
	chart := []byte("\x89PNG\r\n\x1a\n a chart")
	require.NoError(t, files.store.Put(b.ctx, key, bytes.NewReader(chart), int64(len(chart))))
	byID := testUsers()
	data := map[string]any{
		"text":  map[string]any{"zh": "**流程健康月报 · 2026-11**\n- 申请量：20", "en": "**Process health report · 2026-11**\n- Volume: 20"},
		"image": map[string]any{"key": key, "url": "https://x.example/ui/dashboard/report/chart.png?t=a.b", "alt": map[string]any{"zh": "请假 图表", "en": "Leave chart"}},
	}
	tests := []struct {
		to, alt string
	}{{"cto", "请假 图表"}, {"dev2", "Leave chart"}}
	for _, tt := range tests {
		msg, err := b.bot.Render(b.ctx, &flows.OutboxMessage{Kind: flows.MsgText, Recipient: tt.to, Data: raw(t, data)}, byID[tt.to])
		require.NoError(t, err)
		require.NotNil(t, msg.Card)
		require.NotNil(t, msg.Card.Image)
		require.Equal(t, tt.alt, msg.Card.Image.Alt)
		require.Equal(t, key, msg.Card.Image.Key)
		require.Equal(t, "https://x.example/ui/dashboard/report/chart.png?t=a.b", msg.Card.Image.URL)
		rc, err := msg.Card.Image.Open(context.Background())
		require.NoError(t, err)
		got, _ := io.ReadAll(rc)
		_ = rc.Close()
		require.Equal(t, chart, got)
	}
	// A malformed image entry is ignored: the report still renders.
	for _, bad := range []any{"x", map[string]any{"key": "../etc/passwd", "url": "https://x"}, map[string]any{"key": key}} {
		data["image"] = bad
		msg, err := b.bot.Render(b.ctx, &flows.OutboxMessage{Kind: flows.MsgText, Recipient: "cto", Data: raw(t, data)}, byID["cto"])
		require.NoError(t, err)
		require.Nil(t, msg.Card.Image)
	}
}
