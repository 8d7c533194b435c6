package feishu

import (
	"bytes"
	"context"
	"fmt"
	"io"

	larkcore "github.com/larksuite/oapi-sdk-go/v3/core"
	larkim "github.com/larksuite/oapi-sdk-go/v3/service/im/v1"

	"github.com/flowbot/flowbot/bots"
)

// inFile is the file of a file or image message, fetched when the bot
// reads it through the message-resource API; ok is false when the
// message names no resource.
func (a *Adapter) inFile(p *app, messageID, msgType, fileKey, fileName, imageKey string) (*bots.InFile, bool) {
	key, name, typ := fileKey, fileName, "file"
	if msgType == "image" {
		key, name, typ = imageKey, imageKey+".png", "image"
	}
	if messageID == "" || key == "" || len(key) > 256 {
		return nil, false
	}
	if name == "" {
		name = "file"
	}
	return &bots.InFile{Name: name, Open: func(ctx context.Context) (io.ReadCloser, error) {
		return a.resource(ctx, p, messageID, key, typ)
	}}, true
}

// resource downloads one resource of a message (GET
// /open-apis/im/v1/messages/:message_id/resources/:file_key?type=...).
func (a *Adapter) resource(ctx context.Context, p *app, messageID, key, typ string) (io.ReadCloser, error) {
	req := larkim.NewGetMessageResourceReqBuilder().MessageId(messageID).FileKey(key).Type(typ).Build()
	var data []byte
	err := a.call(ctx, p, "get message resource", "", func(ctx context.Context, opt larkcore.RequestOptionFunc) (*larkcore.ApiResp, larkcore.CodeError, error) {
		resp, err := p.client.Im.MessageResource.Get(ctx, req, opt)
		if err != nil {
			return nil, larkcore.CodeError{}, err
		}
		if resp.ApiResp != nil && resp.CodeError.Code == 0 {
			data = resp.ApiResp.RawBody
		}
		return resp.ApiResp, resp.CodeError, nil
	})
	if err != nil {
		return nil, err
	}
	if data == nil {
		return nil, fmt.Errorf("feishu: get message resource: empty answer")
	}
	return io.NopCloser(bytes.NewReader(data)), nil
}
