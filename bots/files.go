package bots

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/flowbot/flowbot/flows"
	"github.com/flowbot/flowbot/flows/flowdef"
)

// Files keeps attachments and makes links to them. cmd/flowbot wires it
// to package blobs.
type Files interface {
	// Keep checks the file read from r (size at most maxSize when that is
	// set, a content type in accept when that is set, never an
	// executable) and keeps it; the File is complete in the store when
	// Keep returns. A refusal is a *FileRefused.
	Keep(ctx context.Context, name string, r io.Reader, maxSize int64, accept []string) (flowdef.File, error)
	// Link is the URL through which viewer opens f of request instance:
	// signed for that viewer, expiring.
	Link(f flowdef.File, instance int64, viewer string) string
}

// FileRefused says why a file was not kept, for the user.
type FileRefused struct {
	Reason flowdef.Text
}

func (e *FileRefused) Error() string { return "file refused: " + e.Reason.EN }

// fileMessage handles a file or image sent in the chat: it fills the file
// field the open conversation asks (or its first file field not filled
// yet), then the conversation goes on.
func (b *Bot) fileMessage(ctx context.Context, ev Event, u *flows.User) (Reply, error) {
	loc := locale(u)
	if b.cfg.Files == nil {
		return textReply(false, T(loc, "file_off", nil)), nil
	}
	st, err := b.loadConv(ctx, ev)
	if err != nil {
		return b.stateDown(ctx, loc, false, "load conversation for a file", err)
	}
	if st == nil {
		return textReply(false, T(loc, "file_unexpected", nil)), nil
	}
	d, err := b.convDef(ctx, st)
	if err != nil {
		return b.fail(ctx, loc, err)
	}
	var f *flowdef.Field
	if len(st.Pending) > 0 {
		if g := d.Field(st.Pending[0]); g != nil && g.Type == flowdef.FieldFile {
			f = g
		}
	}
	if f == nil {
		for i := range d.Fields {
			if d.Fields[i].Type == flowdef.FieldFile {
				if _, have := st.Values[d.Fields[i].ID]; !have {
					f = &d.Fields[i]
					break
				}
			}
		}
	}
	if f == nil {
		return b.next(loc, d, st, []string{T(loc, "file_unexpected", nil)}), nil
	}
	file, problem, err := b.keepFile(ctx, loc, ev.File, f)
	if err != nil {
		return b.fail(ctx, loc, err)
	}
	if problem != "" {
		return b.next(loc, d, st, []string{T(loc, "answer_invalid", map[string]any{"label": f.Label.In(loc), "reason": problem})}), nil
	}
	st.Values[f.ID] = file
	if i := indexOf(st.Pending, f.ID); i >= 0 {
		st.Pending = append(st.Pending[:i:i], st.Pending[i+1:]...)
	}
	note := T(loc, "file_kept", map[string]any{"label": f.Label.In(loc), "name": file.Name, "size": flowdef.FormatSize(file.Size)})
	if st.Form {
		// The form comes back with the file in it (a new card: the old
		// one shows other values and is refused).
		if err := b.saveConv(ctx, ev, st); err != nil {
			return b.stateDown(ctx, loc, false, "save conversation with a file", err)
		}
		return Reply{Messages: []Message{{Text: note}, {Card: b.formCard(ctx, loc, d, st, u.ID, nil, nil)}}}, nil
	}
	return b.saveAndNext(ctx, ev, loc, d, st, []string{note})
}

// keepFile reads in and keeps it within f's limits. problem says why it
// was refused, in loc; err is an internal error.
func (b *Bot) keepFile(ctx context.Context, loc string, in *InFile, f *flowdef.Field) (file flowdef.File, problem string, err error) {
	rc, err := in.Open(ctx)
	if err != nil {
		return flowdef.File{}, "", fmt.Errorf("fetch file %q: %w", in.Name, err)
	}
	defer rc.Close()
	file, err = b.cfg.Files.Keep(ctx, in.Name, rc, f.MaxSize, f.Accept)
	var fr *FileRefused
	if errors.As(err, &fr) {
		return flowdef.File{}, fr.Reason.In(loc), nil
	}
	if err != nil {
		return flowdef.File{}, "", fmt.Errorf("keep file %q: %w", in.Name, err)
	}
	return file, "", nil
}

func indexOf(xs []string, x string) int {
	for i, y := range xs {
		if y == x {
			return i
		}
	}
	return -1
}

// fileLinks are the links to the request's attachments, signed for
// viewer.
func (b *Bot) fileLinks(loc string, v *flows.View, viewer *flows.User) []Link {
	if b.cfg.Files == nil || viewer == nil || v.Def == nil {
		return nil
	}
	var out []Link
	for i := range v.Def.Fields {
		f := &v.Def.Fields[i]
		if f.Type != flowdef.FieldFile || v.Form[f.ID] == nil {
			continue
		}
		nv, err := flowdef.Normalize(f, v.Form[f.ID], b.now())
		file, ok := nv.(flowdef.File)
		if err != nil || !ok {
			continue
		}
		label := f.Label.In(loc) + ": " + truncate(file.Name, 100) + " (" + flowdef.FormatSize(file.Size) + ")"
		if file.Unscanned {
			label += T(loc, "file_unscanned", nil)
		}
		out = append(out, Link{
			Label: label,
			URL:   b.cfg.Files.Link(file, v.Instance.ID, viewer.ID),
		})
	}
	return out
}
