package feishutest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"slices"
	"strings"
)

// Image is a picture uploaded through im/v1/images.
type Image struct {
	Key   string // the image_key the fake answered
	AppID string // the app that uploaded it
	Type  string // image_type: "message" or "avatar"
	Data  []byte
}

// Feishu's answers to a bad upload (im/v1/images error codes).
const (
	codeImageParam  = 234001 // invalid request param (no image, bad image_type)
	codeImageTooBig = 234006 // the file is larger than 10 MB
	codeImageEmpty  = 234010 // the file is empty
	codeImageFormat = 234011 // not an image Feishu reads
	// codeImageKey: a card names an img_key this app did not upload.
	// UNVERIFIED: the exact code Feishu gives for it.
	codeImageKey = 300240
)

// maxImage is Feishu's size limit on an uploaded image (10 MB);
// maxImageBody leaves room for the multipart envelope.
const (
	maxImage     = 10 << 20
	maxImageBody = maxImage + 64<<10
)

// Images returns the images uploaded so far, oldest first.
func (s *Server) Images() []Image {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Image, 0, len(s.images))
	for _, im := range s.images {
		out = append(out, im)
	}
	slices.SortFunc(out, func(a, b Image) int { return bytes.Compare([]byte(a.Key), []byte(b.Key)) })
	return out
}

// handleImage takes POST /open-apis/im/v1/images: a multipart form with
// image_type (message or avatar) and image (PNG, JPEG, GIF, WEBP, TIFF,
// BMP or ICO, at most 10 MB); it answers {"image_key": ...}.
func (s *Server) handleImage(w http.ResponseWriter, r *http.Request, app *App, body []byte) {
	_, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || params["boundary"] == "" {
		writeFeishu(w, http.StatusBadRequest, codeImageParam, "invalid multipart content type", nil)
		return
	}
	if len(body) >= maxImageBody {
		writeFeishu(w, http.StatusBadRequest, codeImageTooBig, "image size exceeds limit", nil)
		return
	}
	form, err := multipart.NewReader(bytes.NewReader(body), params["boundary"]).ReadForm(maxImageBody)
	if err != nil {
		writeFeishu(w, http.StatusBadRequest, codeImageParam, "invalid multipart body: "+err.Error(), nil)
		return
	}
	defer func() { _ = form.RemoveAll() }()
	typ := first(form.Value["image_type"])
	if typ != "message" && typ != "avatar" {
		writeFeishu(w, http.StatusBadRequest, codeImageParam, "field validation failed: image_type", nil)
		return
	}
	files := form.File["image"]
	if len(files) != 1 {
		writeFeishu(w, http.StatusBadRequest, codeImageParam, "field validation failed: image", nil)
		return
	}
	f, err := files[0].Open()
	if err != nil {
		writeFeishu(w, http.StatusBadRequest, codeImageParam, "read image", nil)
		return
	}
	data, err := io.ReadAll(f)
	_ = f.Close()
	switch {
	case err != nil:
		writeFeishu(w, http.StatusBadRequest, codeImageParam, "read image", nil)
		return
	case len(data) == 0:
		writeFeishu(w, http.StatusBadRequest, codeImageEmpty, "image is empty", nil)
		return
	case len(data) > maxImage:
		writeFeishu(w, http.StatusBadRequest, codeImageTooBig, "image size exceeds limit", nil)
		return
	}
	switch http.DetectContentType(data) {
	case "image/png", "image/jpeg", "image/gif", "image/webp", "image/bmp", "image/x-icon":
	default:
		writeFeishu(w, http.StatusBadRequest, codeImageFormat, "image format not supported", nil)
		return
	}
	key := randomID("img_v3_")
	if s.images == nil {
		s.images = map[string]Image{}
	}
	s.images[key] = Image{Key: key, AppID: app.ID, Type: typ, Data: data}
	writeFeishu(w, http.StatusOK, 0, "success", map[string]any{"image_key": key})
}

func first(xs []string) string {
	if len(xs) == 0 {
		return ""
	}
	return xs[0]
}

// checkImageKeys refuses a card whose img elements name an image_key
// this app did not upload as a message image. s.mu is held.
func (s *Server) checkImageKeys(app *App, content string) (int, string) {
	if !strings.Contains(content, `"img"`) && !strings.Contains(content, `\u`) {
		return 0, "" // no img element (its tag would be "img" as written): nothing to walk
	}
	var card any
	if json.Unmarshal([]byte(content), &card) != nil {
		return 0, "" // not a card: checkContent judged it
	}
	var bad string
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			if x["tag"] == "img" {
				k, _ := x["img_key"].(string)
				if im, ok := s.images[k]; !ok || im.AppID != app.ID || im.Type != "message" {
					bad = k
				}
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
	if bad != "" {
		return codeImageKey, fmt.Sprintf("card img_key %q not found", bad)
	}
	return 0, ""
}
