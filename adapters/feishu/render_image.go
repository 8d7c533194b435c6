package feishu

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"
	"sync"

	larkcore "github.com/larksuite/oapi-sdk-go/v3/core"
	larkim "github.com/larksuite/oapi-sdk-go/v3/service/im/v1"

	"github.com/flowbot/flowbot/bots"
)

// MaxImageBytes is Feishu's limit on an uploaded message image (10 MB).
const MaxImageBytes = 10 << 20

// maxImageKeys bounds the image keys an app remembers.
const maxImageKeys = 512

// imageKeys remembers the image_key Feishu gave each uploaded picture (by
// its blob key), so that updating a card does not upload it again.
type imageKeys struct {
	mu   sync.Mutex
	keys map[string]string
}

func (k *imageKeys) get(blob string) string {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.keys[blob]
}

func (k *imageKeys) put(blob, key string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.keys == nil || len(k.keys) >= maxImageKeys {
		k.keys = map[string]string{}
	}
	k.keys[blob] = key
}

// withImage uploads the picture of msg's card (im/v1/images, type
// message) and returns msg with a copy of the card that carries the
// image_key. When the picture cannot be uploaded (no content, too large,
// refused) the card is sent as it is: it shows the picture's link
// instead, and the failure is logged.
func (a *Adapter) withImage(ctx context.Context, p *app, msg bots.Message) bots.Message {
	if msg.Card == nil || msg.Card.Image == nil || msg.Card.Image.Open == nil || msg.Card.Image.PlatformKey != "" {
		return msg
	}
	img := *msg.Card.Image
	key, err := a.uploadImage(ctx, p, img)
	if err != nil {
		a.log.WarnContext(ctx, "card image not uploaded; the card links to it instead", "app", p.cfg.ID, "image", img.Key, "err", err)
		return msg
	}
	c := *msg.Card
	img.PlatformKey = key
	c.Image = &img
	msg.Card = &c
	return msg
}

// uploadImage returns the image_key of img, uploading it unless this app
// uploaded it before.
func (a *Adapter) uploadImage(ctx context.Context, p *app, img bots.Image) (string, error) {
	if img.Key != "" {
		if k := p.images.get(img.Key); k != "" {
			return k, nil
		}
	}
	rc, err := img.Open(ctx)
	if err != nil {
		return "", fmt.Errorf("feishu: read card image %s: %w", img.Key, err)
	}
	data, err := io.ReadAll(io.LimitReader(rc, MaxImageBytes+1))
	_ = rc.Close()
	if err != nil {
		return "", fmt.Errorf("feishu: read card image %s: %w", img.Key, err)
	}
	if len(data) == 0 || len(data) > MaxImageBytes {
		return "", fmt.Errorf("feishu: card image %s: %d bytes (1 to %d taken)", img.Key, len(data), MaxImageBytes)
	}
	var key string
	err = a.call(ctx, p, "upload image", "", func(ctx context.Context, opt larkcore.RequestOptionFunc) (*larkcore.ApiResp, larkcore.CodeError, error) {
		req := larkim.NewCreateImageReqBuilder().Body(larkim.NewCreateImageReqBodyBuilder().
			ImageType(larkim.CreateImageImageTypeMessage).Image(bytes.NewReader(data)).Build()).Build()
		resp, err := p.client.Im.Image.Create(ctx, req, opt)
		if err != nil {
			return nil, larkcore.CodeError{}, err
		}
		if resp.Data != nil {
			key = deref(resp.Data.ImageKey)
		}
		return resp.ApiResp, resp.CodeError, nil
	})
	if err != nil {
		return "", err
	}
	if key == "" {
		return "", fmt.Errorf("feishu: upload image: answer without image_key")
	}
	if img.Key != "" {
		p.images.put(img.Key, key)
	}
	return key, nil
}

// renderImage is the card element of a picture: an img element once it
// was uploaded, else a link to it (Feishu opens only absolute http(s)
// links), else nothing.
func renderImage(img *bots.Image, lim renderLimits) []any {
	if img == nil {
		return nil
	}
	alt := truncate(img.Alt, lim.label)
	if img.PlatformKey != "" {
		return []any{map[string]any{"tag": "img", "img_key": img.PlatformKey, "alt": plainText(alt),
			"scale_type": "fit_horizontal", "preview": true}}
	}
	if strings.HasPrefix(img.URL, "https://") || strings.HasPrefix(img.URL, "http://") {
		label := escapeMarkdown(cmpOr(alt, "chart"))
		return []any{map[string]any{"tag": "markdown", "content": "📊 [" + label + "](" + strings.NewReplacer("(", "%28", ")", "%29", " ", "%20").Replace(img.URL) + ")"}}
	}
	return nil
}
