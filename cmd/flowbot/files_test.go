package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/blobs/clamd/clamdtest"
)

const receiptFlow = `
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
    max_size: 1MB
    accept: [application/pdf, image/*]
steps:
  - id: manager
    name: {zh: 上级审批, en: Manager}
    approvers: [{manager: 1}]
`

type pgLinkCard struct {
	Card *struct {
		Links []struct {
			Label string `json:"label"`
			URL   string `json:"url"`
		} `json:"links"`
	} `json:"card"`
}

// End to end through the playground: a receipt is sent in the chat, the
// request is filed, and its card's link opens the file for the applicant
// and the approver only; a link altered for someone else is refused.
func TestAttachmentEndToEnd(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeFile(t, dir+"/flows", "receipt.yaml", receiptFlow)
	cfg := testConfig(dir)
	cfg.Flows.Dir = dir + "/flows"
	cfg.Attachments.LinkSecret = strings.Repeat("s", 32)
	r := startApp(t, cfg)
	p := r.pg

	p.send(t, "hanmeimei", "/receipt amount=12")
	pdf := "%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\n"
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	require.NoError(t, mw.WriteField("user", "hanmeimei"))
	require.NoError(t, mw.WriteField("id", "upload-1"))
	require.NoError(t, mw.WriteField("name", "发票.pdf"))
	w, err := mw.CreateFormFile("file", "发票.pdf")
	require.NoError(t, err)
	_, _ = w.Write([]byte(pdf))
	require.NoError(t, mw.Close())
	res, err := http.Post(r.base+"/ui/api/upload", mw.FormDataContentType(), &body)
	require.NoError(t, err)
	var rep pgReply
	require.NoError(t, json.NewDecoder(res.Body).Decode(&rep))
	res.Body.Close()
	require.Equal(t, http.StatusOK, res.StatusCode, rep.Error)
	var sum pgMsg
	for _, m := range rep.Messages {
		if m.Card != nil {
			sum = m
		}
	}
	require.NotNil(t, sum.Card, "the confirm card comes back: %+v", rep)
	require.Contains(t, sum.text(), "发票.pdf")

	status, raw := clickRaw(t, r.base, "hanmeimei", sum, "submit")
	require.Equal(t, http.StatusOK, status)
	var clicked struct {
		Updated pgLinkCard `json:"updated"`
	}
	require.NoError(t, json.Unmarshal(raw, &clicked))
	require.NotNil(t, clicked.Updated.Card)
	require.Len(t, clicked.Updated.Card.Links, 1)
	link := clicked.Updated.Card.Links[0].URL
	require.True(t, strings.HasPrefix(link, "/files/"), link)

	get := func(path string) (int, string) {
		res, err := http.Get(r.base + path)
		require.NoError(t, err)
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	code, got := get(link)
	require.Equal(t, http.StatusOK, code, got)
	require.Equal(t, pdf, got)

	// The approver's link, made for them, opens too; one made for a
	// colleague who is no participant is refused when opened.
	bf := r.app.files
	require.NotNil(t, bf)
	token := strings.Split(strings.TrimPrefix(link, "/files/"), "/")[0]
	g, err := bf.signer.Verify(token)
	require.NoError(t, err)
	code, _ = get(bf.signer.Path("/files/", g.Blob, g.Instance, "lilei"))
	require.Equal(t, http.StatusOK, code, "the approver opens it")
	code, _ = get(bf.signer.Path("/files/", g.Blob, g.Instance, "zhaomin"))
	require.Equal(t, http.StatusForbidden, code, "someone of another department does not")
	code, _ = get(strings.Replace(link, token[:10], "AAAAAAAAAA", 1))
	require.Equal(t, http.StatusForbidden, code, "an altered link is refused")
}

// clickRaw clicks a button of m as user and returns the raw answer.
func clickRaw(t *testing.T, base, user string, m pgMsg, action string) (int, []byte) {
	t.Helper()
	btn, ok := m.button(action)
	require.True(t, ok, "no %s button", action)
	b, _ := json.Marshal(map[string]any{"id": "click-" + action, "user": user, "message_id": m.ID, "action": btn.Action, "value": btn.Value})
	res, err := http.Post(base+"/ui/api/action", "application/json", bytes.NewReader(b))
	require.NoError(t, err)
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	return res.StatusCode, raw
}

// uploadFile sends a file in the playground as user and returns the
// bot's answer.
func uploadFile(t *testing.T, base, user, id, name, body string) pgReply {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	require.NoError(t, mw.WriteField("user", user))
	require.NoError(t, mw.WriteField("id", id))
	require.NoError(t, mw.WriteField("name", name))
	w, err := mw.CreateFormFile("file", name)
	require.NoError(t, err)
	_, _ = w.Write([]byte(body))
	require.NoError(t, mw.Close())
	res, err := http.Post(base+"/ui/api/upload", mw.FormDataContentType(), &buf)
	require.NoError(t, err)
	defer res.Body.Close()
	var rep pgReply
	require.NoError(t, json.NewDecoder(res.Body).Decode(&rep))
	require.Equal(t, http.StatusOK, res.StatusCode, rep.Error)
	return rep
}

func replyText(r pgReply) string {
	var out []string
	for _, m := range r.Messages {
		out = append(out, m.text())
	}
	return strings.Join(out, "\n")
}

// With attachments.clamd set, a file carrying a virus (the EICAR test
// string) is refused, the sender told why in their language, and
// nothing is kept; a clean file goes through; when clamd is down the
// file is refused by default, or kept and marked "not virus-scanned"
// with when_down: accept.
func TestAttachmentVirusScan(t *testing.T) {
	t.Parallel()
	pdf := "%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\n"
	for _, tc := range []struct {
		name     string
		user     string
		body     string
		down     bool
		whenDown string
		want     string // in the bot's answer
		kept     bool
	}{
		{"eicar, zh", "hanmeimei", pdf + clamdtest.EICAR, false, "", "病毒扫描发现该文件带有病毒（Eicar-Test-Signature），文件未保存", false},
		{"eicar, en", "tom", pdf + clamdtest.EICAR, false, "", "the virus scan found Eicar-Test-Signature in the file; it was not kept", false},
		{"clean", "hanmeimei", pdf, false, "", "已收到「发票」", true},
		{"clamd down, refuse", "hanmeimei", pdf, true, "refuse", "病毒扫描暂时不可用，文件未保存，请稍后再发送", false},
		{"clamd down, en", "tom", pdf, true, "", "the virus scanner is unavailable right now; the file was not kept", false},
		{"clamd down, accept", "hanmeimei", pdf, true, "accept", "已收到「发票」", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := clamdtest.Start(t)
			if tc.down {
				srv.Close()
			}
			dir := t.TempDir()
			writeFile(t, dir+"/flows", "receipt.yaml", receiptFlow)
			cfg := testConfig(dir)
			cfg.Flows.Dir = dir + "/flows"
			cfg.Attachments.Dir = dir + "/files"
			cfg.Attachments.Clamd.Address = srv.Address()
			cfg.Attachments.Clamd.Timeout = time.Second
			cfg.Attachments.Clamd.WhenDown = tc.whenDown
			r := startApp(t, cfg)
			r.pg.send(t, tc.user, "/receipt amount=12")
			rep := uploadFile(t, r.base, tc.user, "up-"+tc.user, "receipt.pdf", tc.body)
			require.Contains(t, replyText(rep), tc.want)
			ents, err := os.ReadDir(dir + "/files")
			require.NoError(t, err)
			if !tc.kept {
				require.Empty(t, ents, "nothing of a refused file is kept")
				return
			}
			require.Len(t, ents, 1)
			if tc.whenDown == "accept" {
				var sum pgMsg
				for _, m := range rep.Messages {
					if m.Card != nil {
						sum = m
					}
				}
				require.NotNil(t, sum.Card)
				status, raw := clickRaw(t, r.base, tc.user, sum, "submit")
				require.Equal(t, http.StatusOK, status)
				require.Contains(t, string(raw), "未经病毒扫描", "every card says the file was not scanned")
			}
		})
	}
}

// uploadPDF uploads a small PDF in the playground as user.
func uploadPDF(t *testing.T, base, user, id string) pgReply {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	require.NoError(t, mw.WriteField("user", user))
	require.NoError(t, mw.WriteField("id", id))
	require.NoError(t, mw.WriteField("name", "quote.pdf"))
	w, err := mw.CreateFormFile("file", "quote.pdf")
	require.NoError(t, err)
	_, _ = w.Write([]byte("%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\n"))
	require.NoError(t, mw.Close())
	res, err := http.Post(base+"/ui/api/upload", mw.FormDataContentType(), &body)
	require.NoError(t, err)
	defer res.Body.Close()
	var rep pgReply
	require.NoError(t, json.NewDecoder(res.Body).Decode(&rep))
	require.Equal(t, http.StatusOK, res.StatusCode, rep.Error)
	return rep
}

// Orphan attachments, wired as served: the upload of a conversation that
// was cancelled is deleted by the cleaner once past the retention; the
// file of the filed request stays and its link opens.
func TestOrphanUploadsDeletedAsServed(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeFile(t, dir+"/flows", "receipt.yaml", receiptFlow)
	cfg := testConfig(dir)
	cfg.Flows.Dir = dir + "/flows"
	r := startApp(t, cfg)
	p := r.pg
	bf := r.app.files
	require.NotNil(t, bf)
	require.NotNil(t, bf.cleaner, "the SQLite store keeps the ledger")

	p.send(t, "hanmeimei", "/receipt amount=12")
	var sum pgMsg
	for _, m := range uploadPDF(t, r.base, "hanmeimei", "up-1").Messages {
		if m.Card != nil {
			sum = m
		}
	}
	require.NotNil(t, sum.Card)
	status, raw := clickRaw(t, r.base, "hanmeimei", sum, "submit")
	require.Equal(t, http.StatusOK, status, string(raw))
	var clicked struct {
		Updated pgLinkCard `json:"updated"`
	}
	require.NoError(t, json.Unmarshal(raw, &clicked))
	require.NotNil(t, clicked.Updated.Card)
	link := clicked.Updated.Card.Links[0].URL

	p.send(t, "lilei", "/receipt amount=30")
	uploadPDF(t, r.base, "lilei", "up-2")
	p.send(t, "lilei", "/cancel")

	later := *bf.cleaner
	later.Now = func() time.Time { return time.Now().Add(25 * time.Hour) }
	n, err := later.Sweep(context.Background())
	require.NoError(t, err)
	require.Equal(t, 1, n, "the cancelled conversation's upload")
	res, err := http.Get(r.base + link)
	require.NoError(t, err)
	res.Body.Close()
	require.Equal(t, http.StatusOK, res.StatusCode, "the request's file stays")
	n, err = later.Sweep(context.Background())
	require.NoError(t, err)
	require.Zero(t, n)
}
