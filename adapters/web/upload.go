package web

import (
	"context"
	"errors"

	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/flowbot/flowbot/bots"
)

// MaxUpload is the largest upload body accepted (larger: the bot is told
// the file is cut off and keeps nothing). The bot's own limits (the
// flow's max_size, the server's attachments.max_size) are smaller.
const MaxUpload = 64 << 20

// handleUpload is a file sent in the chat: a multipart body with the
// fields "user" and "id" first, then the part "file". The file is handed
// to the bot as it arrives (not buffered here), as a message with a file.
func (a *Adapter) handleUpload(w http.ResponseWriter, r *http.Request) {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/form-data" {
		writeError(w, http.StatusUnsupportedMediaType, "send multipart/form-data with the fields user and id, then file")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, MaxUpload)
	mr, err := r.MultipartReader()
	if err != nil {
		writeError(w, http.StatusBadRequest, "malformed multipart body")
		return
	}
	fields := map[string]string{}
	for {
		part, err := mr.NextPart()
		if err != nil {
			writeError(w, http.StatusBadRequest, "the part file is missing (it comes after user and id)")
			return
		}
		name := part.FormName()
		if name != "file" {
			v, err := io.ReadAll(io.LimitReader(part, 256))
			if err != nil {
				writeError(w, http.StatusBadRequest, "malformed multipart body")
				return
			}
			fields[name] = string(v)
			continue
		}
		a.uploadFile(w, r, fields, part)
		return
	}
}

func (a *Adapter) uploadFile(w http.ResponseWriter, r *http.Request, fields map[string]string, file io.Reader) {
	user, ok := a.userOf(w, r, fields["user"])
	if !ok {
		return
	}
	id := fields["id"]
	if !validID(id) {
		writeError(w, http.StatusBadRequest, "id must be up to 64 letters, digits or dashes")
		return
	}
	if id == "" {
		id = randomHex(16)
	}
	name := strings.TrimSpace(fields["name"])
	if name == "" {
		name = "file"
	}
	opened := false
	ev := bots.Event{
		Platform: Platform, ID: id, UserID: user, ChatID: user, ChatType: "p2p", At: a.now(),
		File: &bots.InFile{Name: name, Open: func(context.Context) (io.ReadCloser, error) {
			if opened {
				return nil, errors.New("web: the upload is read once")
			}
			opened = true
			return io.NopCloser(file), nil
		}},
	}
	m, err := a.appendMessage(user, FromMe, bots.Message{Text: "📎 " + name}, "in:"+id)
	if err != nil {
		a.log.Error("append message", "user", user, "err", err)
		writeError(w, http.StatusServiceUnavailable, "cannot keep the message, try again")
		return
	}
	reply, ok := a.handle(w, r, ev)
	if !ok {
		return
	}
	writeJSON(w, http.StatusOK, replyResponse{Me: &m, Messages: a.appendReply(r.Context(), user, reply), Toast: reply.Toast})
}
