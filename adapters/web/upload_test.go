package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/adapters/web"
	"github.com/flowbot/flowbot/bots"
)

// upload posts a multipart body with the given parts, in order.
func upload(t *testing.T, url string, parts [][2]string) (*http.Response, replyResponse) {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for _, p := range parts {
		if p[0] == "file" {
			w, err := mw.CreateFormFile("file", "receipt.pdf")
			require.NoError(t, err)
			_, _ = w.Write([]byte(p[1]))
			continue
		}
		require.NoError(t, mw.WriteField(p[0], p[1]))
	}
	require.NoError(t, mw.Close())
	res, err := http.Post(url+"/api/upload", mw.FormDataContentType(), &body)
	require.NoError(t, err)
	defer res.Body.Close()
	var out replyResponse
	_ = json.NewDecoder(res.Body).Decode(&out)
	return res, out
}

// A file sent in the playground reaches the bot as a file message, read
// as it arrives, and the chat shows it and the bot's answer.
func TestUploadIsAFileMessage(t *testing.T) {
	t.Parallel()
	var got []byte
	b := setup(t, web.Config{Demo: true})
	b.handler.HandleFunc = func(ctx context.Context, ev bots.Event) (bots.Reply, error) {
		require.NotNil(t, ev.File)
		require.Equal(t, "发票.pdf", ev.File.Name)
		rc, err := ev.File.Open(ctx)
		require.NoError(t, err)
		got, _ = io.ReadAll(rc)
		_, err = ev.File.Open(ctx)
		require.Error(t, err, "the upload is read once")
		return bots.Reply{Messages: []bots.Message{{Text: "已收到"}}}, nil
	}
	res, out := upload(t, b.srv.URL, [][2]string{{"user", "dev1"}, {"id", "up-1"}, {"name", "发票.pdf"}, {"file", "%PDF-1.7 body"}})
	require.Equal(t, http.StatusOK, res.StatusCode, out.Error)
	require.Equal(t, "%PDF-1.7 body", string(got))
	require.Equal(t, "📎 发票.pdf", out.Me.Text)
	require.Equal(t, "已收到", out.Messages[0].Text)
}

// Malformed uploads are refused before the bot sees anything.
func TestUploadRefused(t *testing.T) {
	t.Parallel()
	b := setup(t, web.Config{Demo: true})
	for _, tc := range []struct {
		name  string
		parts [][2]string
		code  int
	}{
		{"no file part", [][2]string{{"user", "dev1"}, {"id", "x"}}, http.StatusBadRequest},
		{"bad id", [][2]string{{"user", "dev1"}, {"id", "../../x"}, {"file", "x"}}, http.StatusBadRequest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, _ := upload(t, b.srv.URL, tc.parts)
			require.Equal(t, tc.code, res.StatusCode)
		})
	}
	res, err := http.Post(b.srv.URL+"/api/upload", "application/json", bytes.NewReader([]byte(`{}`)))
	require.NoError(t, err)
	res.Body.Close()
	require.Equal(t, http.StatusUnsupportedMediaType, res.StatusCode)
	require.Empty(t, b.handler.Events(), "the bot saw nothing")
}
