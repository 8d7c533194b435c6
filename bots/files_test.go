package bots_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/blobs"
	"github.com/flowbot/flowbot/bots"
	"github.com/flowbot/flowbot/flows/flowdef"
	"github.com/flowbot/flowbot/internal/testkit"
)

const receiptYAML = `
id: receipt
name: {zh: 票据报销, en: Receipt claim}
fields:
  - id: amount
    type: money
    label: {zh: 金额, en: Amount}
    required: true
  - id: receipt
    type: file
    label: {zh: 发票, en: Receipt}
    required: true
    max_size: 1KB
    accept: [application/pdf, image/*]
steps:
  - id: manager
    name: {zh: 上级审批, en: Manager}
    approvers: [{manager: 1}]
`

// blobFiles is bots.Files on the real blob store (as cmd/flowbot wires it).
type blobFiles struct {
	store  blobs.Store
	signer *blobs.Signer
}

func (f *blobFiles) Keep(ctx context.Context, name string, r io.Reader, maxSize int64, accept []string) (flowdef.File, error) {
	b, err := blobs.Save(ctx, f.store, name, r, blobs.Limits{MaxBytes: maxSize, Types: accept})
	if errors.Is(err, blobs.ErrTooLarge) || errors.Is(err, blobs.ErrType) || errors.Is(err, blobs.ErrExecutable) || errors.Is(err, blobs.ErrEmpty) {
		return flowdef.File{}, &bots.FileRefused{Reason: flowdef.Text{ZH: "文件被拒绝：" + err.Error(), EN: "refused: " + err.Error()}}
	}
	return flowdef.File{Key: b.Key, Name: b.Name, Type: b.Type, Size: b.Size}, err
}

func (f *blobFiles) Link(file flowdef.File, instance int64, viewer string) string {
	return f.signer.Path("/files/", blobs.Blob{Key: file.Key, Name: file.Name, Type: file.Type, Size: file.Size}, instance, viewer)
}

func setupFiles(t *testing.T) (*bundle, *blobFiles) {
	t.Helper()
	b := setup(t)
	store, err := blobs.NewLocal(t.TempDir())
	require.NoError(t, err)
	signer, err := blobs.NewSigner([]byte("0123456789abcdef0123456789abcdef"), time.Hour, b.clock.Now)
	require.NoError(t, err)
	files := &blobFiles{store: store, signer: signer}
	b.bot = bots.New(bots.Config{Engine: b.engine, Store: b.db, State: b.state, Dedupe: testkit.NewMemDedupe(), AdminContact: admin, Files: files})
	_, _, err = b.engine.PublishFlow(b.ctx, "receipt.yaml", []byte(receiptYAML))
	require.NoError(t, err)
	return b, files
}

// sendFile sends a file message as user.
func (b *bundle) sendFile(t *testing.T, user, name string, body []byte) bots.Reply {
	t.Helper()
	ev := b.msg(user, "")
	ev.File = &bots.InFile{Name: name, Open: func(context.Context) (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }}
	rep, err := b.bot.Handle(b.ctx, ev)
	require.NoError(t, err)
	return rep
}

var testPDF = []byte("%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\n")

// A file sent in the chat fills the file field the conversation asks;
// every card of the request shows it as a link signed for its viewer.
func TestAttachmentByChat(t *testing.T) {
	t.Parallel()
	b, files := setupFiles(t)
	rep := b.say(t, "dev1", "/receipt amount=12")
	require.Contains(t, text(rep), "发票")
	require.Contains(t, text(rep), "发送文件", "the question says to send a file")

	// Text is no file.
	rep = b.say(t, "dev1", "receipt.pdf")
	require.Contains(t, text(rep), "需要一个文件")

	rep = b.sendFile(t, "dev1", "发票.pdf", testPDF)
	require.Contains(t, text(rep), "已收到「发票」：发票.pdf")
	sum := lastCard(t, rep)
	require.Contains(t, cardText(sum), "发票.pdf")

	rep = b.click(t, "dev1", button(t, sum, "submit"), nil)
	require.Contains(t, rep.Toast, "已提交")
	require.Len(t, rep.Card.Links, 1, "the applicant's card links the receipt")
	link := rep.Card.Links[0]
	require.Contains(t, link.Label, "发票.pdf")
	token := strings.Split(strings.TrimPrefix(link.URL, "/files/"), "/")[0]
	g, err := files.signer.Verify(token)
	require.NoError(t, err)
	require.Equal(t, "dev1", g.Viewer, "the link is signed for its viewer")
	rc, err := files.store.Open(b.ctx, g.Blob.Key)
	require.NoError(t, err)
	got, _ := io.ReadAll(rc)
	rc.Close()
	require.Equal(t, testPDF, got, "the file is kept whole")

	// The approver's card links it for the approver.
	todo := lastCard(t, b.say(t, "cto", "/status RECEIPT-20261126-0001"))
	require.Len(t, todo.Links, 1)
	g, err = files.signer.Verify(strings.Split(strings.TrimPrefix(todo.Links[0].URL, "/files/"), "/")[0])
	require.NoError(t, err)
	require.Equal(t, "cto", g.Viewer)
}

// Files that break the field's limits are refused with the reason, and
// the question is asked again.
func TestAttachmentRefused(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, file string
		body       []byte
	}{
		{"too big", "big.pdf", append(append([]byte{}, testPDF...), bytes.Repeat([]byte(" "), 2000)...)},
		{"wrong type", "notes.txt", []byte("plain text")},
		{"executable", "invoice.pdf", append([]byte("MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff"), make([]byte, 100)...)},
		{"empty", "empty.pdf", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b, _ := setupFiles(t)
			b.say(t, "dev1", "/receipt amount=12")
			rep := b.sendFile(t, "dev1", tc.file, tc.body)
			require.Contains(t, text(rep), "填写有误", "got %q", text(rep))
			require.Empty(t, cards(rep), "no confirmation card")
			require.Contains(t, text(rep), "1/1", "the question is asked again")
		})
	}
}

// A file with no conversation open is declined politely.
func TestAttachmentUnexpected(t *testing.T) {
	t.Parallel()
	b, _ := setupFiles(t)
	rep := b.sendFile(t, "dev2", "a.pdf", testPDF)
	require.Contains(t, text(rep), "nothing open needs one")
	// A platform that cannot fetch the file: an internal error, nothing kept.
	b.say(t, "dev1", "/receipt amount=12")
	ev := b.msg("dev1", "")
	ev.File = &bots.InFile{Name: "x.pdf", Open: func(context.Context) (io.ReadCloser, error) { return nil, fmt.Errorf("resource api down") }}
	_, err := b.bot.Handle(b.ctx, ev)
	require.Error(t, err)
}

// On the form card, a file sent in the chat brings the form back with
// the file in it; Submit files it.
func TestAttachmentOnForm(t *testing.T) {
	t.Parallel()
	b, _ := setupFiles(t)
	c := lastCard(t, b.say(t, "dev2", "/receipt form amount=12"))
	ins, vals := formInputs(t, c)
	require.Equal(t, bots.InputFile, ins["receipt"].Kind)
	rep := b.click(t, "dev2", button(t, c, "form_submit"), vals)
	fins, _ := formInputs(t, rep.Card)
	require.Contains(t, fins["receipt"].Error, "send the file", "a required file is asked for")

	rep = b.sendFile(t, "dev2", "scan.pdf", testPDF)
	form := lastCard(t, rep)
	ins, vals = formInputs(t, form)
	require.Equal(t, "scan.pdf", ins["receipt"].Value)
	rep = b.click(t, "dev2", button(t, c, "form_submit"), vals)
	require.Equal(t, bots.ToastWarning, rep.ToastKind, "the old form is out of date")
	rep = b.click(t, "dev2", button(t, form, "form_submit"), vals)
	require.Contains(t, rep.Toast, "Submitted")
	require.Len(t, rep.Card.Links, 1)
}
