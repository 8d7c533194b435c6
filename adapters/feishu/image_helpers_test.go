package feishu_test

import (
	"bytes"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"
)

func jsonDecode(r io.Reader, v any) error { return json.NewDecoder(r).Decode(v) }

// uploadRaw posts an image to the fake's im/v1/images as a multipart form
// and returns Feishu's code.
func uploadRaw(t *testing.T, base, token, imageType string, data []byte, contentType string) int {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	require.NoError(t, mw.WriteField("image_type", imageType))
	fw, err := mw.CreateFormFile("image", "chart.png")
	require.NoError(t, err)
	_, _ = fw.Write(data)
	require.NoError(t, mw.Close())
	req, err := http.NewRequest(http.MethodPost, base+"/open-apis/im/v1/images", &body)
	require.NoError(t, err)
	if contentType == "" {
		contentType = mw.FormDataContentType()
	}
	req.Header.Set("Content-Type", contentType)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var out struct {
		Code int `json:"code"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&out))
	return out.Code
}
