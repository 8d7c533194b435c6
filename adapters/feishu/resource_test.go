package feishu_test

import (
	"context"
	"io"
	"net/http"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/adapters/feishu"
	"github.com/flowbot/flowbot/adapters/feishu/feishutest"
	"github.com/flowbot/flowbot/bots"
)

// A file or image message reaches the bot as a message with a file, whose
// content the adapter fetches through the message-resource API when the
// bot reads it.
func TestFileMessages(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		res      feishutest.Resource
		wantName string
	}{
		{"file", feishutest.Resource{Name: "发票.pdf", Data: []byte("%PDF-1.7 receipt")}, "发票.pdf"},
		{"image", feishutest.Resource{Data: []byte("\x89PNG\r\n\x1a\nimage"), Image: true}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var (
				mu   sync.Mutex
				got  []byte
				name string
				ferr error
			)
			b := setup(t, setupOpts{reply: func(ev bots.Event) (bots.Reply, error) {
				mu.Lock()
				defer mu.Unlock()
				if ev.File == nil {
					return bots.Reply{}, nil
				}
				name = ev.File.Name
				rc, err := ev.File.Open(context.Background())
				if err != nil {
					ferr = err
					return bots.Reply{}, nil
				}
				defer rc.Close()
				got, ferr = io.ReadAll(rc)
				return bots.Reply{}, nil
			}})
			r := b.fake.Deliver(t, feishutest.Delivery{App: b.app.ID, OpenID: "ou_alice", ChatID: "oc_p2p_alice", File: &tc.res})
			require.Equal(t, http.StatusOK, r.Status, "body %s", r.Body)
			mu.Lock()
			defer mu.Unlock()
			require.NoError(t, ferr)
			require.Equal(t, tc.res.Data, got, "the content comes from the resource API")
			if tc.wantName != "" {
				require.Equal(t, tc.wantName, name)
			} else {
				require.NotEmpty(t, name)
			}
		})
	}
}

// A resource the platform no longer has is an error for the bot to
// report, not a panic or an empty file.
func TestFileMessageResourceGone(t *testing.T) {
	t.Parallel()
	var (
		mu   sync.Mutex
		fake *feishutest.Server
		ferr error
		seen bool
	)
	b := setup(t, setupOpts{reply: func(ev bots.Event) (bots.Reply, error) {
		mu.Lock()
		defer mu.Unlock()
		if ev.File != nil {
			seen = true
			fake.ForgetResources()
			_, ferr = ev.File.Open(context.Background())
		}
		return bots.Reply{}, nil
	}})
	mu.Lock()
	fake = b.fake
	mu.Unlock()
	b.fake.Deliver(t, feishutest.Delivery{App: b.app.ID, OpenID: "ou_alice", ChatID: "oc_p2p_alice", File: &feishutest.Resource{Name: "a.pdf", Data: []byte("x")}})
	mu.Lock()
	defer mu.Unlock()
	require.True(t, seen)
	require.Error(t, ferr)
	require.Contains(t, ferr.Error(), "234003")
}

// A card's attachment links are rendered as links Feishu opens (absolute
// URLs), with the user's file name escaped.
func TestRenderLinks(t *testing.T) {
	t.Parallel()
	raw, err := feishu.RenderCard(bots.Card{Title: "EXP-1", Links: []bots.Link{
		{Label: "发票: **x**.pdf (1.0 KB)", URL: "https://flowbot.example.com/files/tok/x.pdf"},
		{Label: "relative.pdf", URL: "/files/tok/relative.pdf"},
	}})
	require.NoError(t, err)
	s := string(raw)
	require.Contains(t, s, "](https://flowbot.example.com/files/tok/x.pdf)")
	require.NotContains(t, s, "**x**", "user text is escaped")
	require.NotContains(t, s, "](/files/", "a relative link is no link in Feishu")
	require.Contains(t, s, "relative.pdf")
}
