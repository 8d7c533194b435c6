package adaptertest

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/blobs"
	"github.com/flowbot/flowbot/bots"
)

// Who and what the links of AttachmentsCard are for.
const (
	LinkViewer   = "u-approver"
	LinkInstance = 7
	linkBase     = "https://flowbot.example.com"
)

// linkSigner signs the sample links with a fixed secret and clock, so the
// cards (and golden files) are the same on every run.
func linkSigner() *blobs.Signer {
	s, err := blobs.NewSigner([]byte("adaptertest-link-secret-0123456789abcdef"), time.Hour,
		func() time.Time { return time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC) })
	if err != nil {
		panic(err) // the secret above is long enough
	}
	return s
}

// AttachmentFiles are the files shown on AttachmentsCard.
func AttachmentFiles() []blobs.Blob {
	return []blobs.Blob{
		{Key: "0123456789abcdef0123456789abcdef", Name: "发票 invoice.pdf", Type: "application/pdf", Size: 1234},
		{Key: "fedcba9876543210fedcba9876543210", Name: "receipt (taxi).png", Type: "image/png", Size: 48213},
	}
}

// AttachmentsCard is an approver's task card of a request with two file
// fields: each file is a named link signed for LinkViewer, as bots makes
// them through blobs.Signer.
func AttachmentsCard() bots.Card { return SampleCards()["attachments"] }

// withLinks is c with the links of AttachmentFiles.
func withLinks(c bots.Card) bots.Card {
	c.Title = "报销审批 EXP-20261126-0001"
	c.Links = nil
	s := linkSigner()
	for i, f := range AttachmentFiles() {
		label := []string{"发票 Invoice", "收据 Receipt"}[i] + ": " + f.Name
		c.Links = append(c.Links, bots.Link{Label: label, URL: linkBase + s.Path("/files/", f, LinkInstance, LinkViewer)})
	}
	return c
}

// checkLinks asserts that rendered shows every link of AttachmentsCard
// intact and named: the token in it opens the file for LinkViewer only.
func checkLinks(t *testing.T, rendered []byte) {
	t.Helper()
	out := string(rendered)
	s := linkSigner()
	for _, f := range AttachmentFiles() {
		token := s.Token(f, LinkInstance, LinkViewer)
		require.Contains(t, out, token, "the signed link to %q must be on the card, unaltered", f.Name)
		require.Contains(t, out, linkBase+"/files/"+token+"/", "the link to %q must be absolute and point at the file server", f.Name)
		name, _, _ := strings.Cut(f.Name, " ")
		require.True(t, strings.Contains(out, name) || strings.Contains(out, url.PathEscape(name)), "the link to %q must be named", f.Name)
		g, err := s.Verify(token)
		require.NoError(t, err)
		require.Equal(t, LinkViewer, g.Viewer, "the link opens for its viewer only")
		require.EqualValues(t, LinkInstance, g.Instance)
		require.NotContains(t, out, s.Token(f, LinkInstance, "u-outsider"), "no link for anyone else")
	}
}
