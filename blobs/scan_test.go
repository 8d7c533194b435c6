package blobs_test

import (
	"bytes"
	"context"
	"io"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/blobs"
	"github.com/flowbot/flowbot/blobs/clamd"
	"github.com/flowbot/flowbot/blobs/clamd/clamdtest"
)

// Save with a virus scanner (a fake clamd speaking INSTREAM): an infected
// file is refused and nothing of it is kept; a file clamd could not check
// is refused, or kept and marked unscanned when that is allowed.
func TestSaveScanned(t *testing.T) {
	t.Parallel()
	infected := append(append([]byte{}, pdf...), clamdtest.EICAR...)
	for _, tc := range []struct {
		name          string
		body          []byte
		accept        bool
		setup         func(*clamdtest.Server)
		wantErr       error
		wantUnscanned bool
	}{
		{name: "clean", body: pdf},
		{name: "eicar", body: []byte(clamdtest.EICAR), wantErr: blobs.ErrInfected},
		{name: "eicar in a pdf", body: infected, wantErr: blobs.ErrInfected},
		{name: "eicar, even when unscanned files are accepted", body: infected, accept: true, wantErr: blobs.ErrInfected},
		{name: "clamd down: refused", body: pdf, setup: func(s *clamdtest.Server) { s.Close() }, wantErr: blobs.ErrScanUnavailable},
		{name: "clamd down: accepted and flagged", body: pdf, accept: true, setup: func(s *clamdtest.Server) { s.Close() }, wantUnscanned: true},
		{name: "slow clamd: refused", body: pdf, setup: func(s *clamdtest.Server) { s.SetDelay(5 * time.Second) }, wantErr: blobs.ErrScanUnavailable},
		{name: "malformed answer: refused", body: pdf, setup: func(s *clamdtest.Server) { s.SetReply("stream: ???") }, wantErr: blobs.ErrScanUnavailable},
		{name: "malformed answer: accepted and flagged", body: pdf, accept: true, setup: func(s *clamdtest.Server) { s.SetReply("stream: ???") }, wantUnscanned: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := clamdtest.Start(t)
			if tc.setup != nil {
				tc.setup(srv)
			}
			c, err := clamd.New(clamd.Config{Address: srv.Address(), Timeout: time.Second, ChunkSize: 16})
			require.NoError(t, err)
			dir := t.TempDir()
			s, err := blobs.NewLocal(dir)
			require.NoError(t, err)
			b, err := blobs.Save(context.Background(), s, "receipt.pdf", bytes.NewReader(tc.body), blobs.Limits{Scanner: c, AcceptUnscanned: tc.accept})
			if tc.wantErr != nil {
				require.ErrorIs(t, err, tc.wantErr)
				require.Empty(t, b.Key)
				require.Empty(t, files(t, dir), "nothing is kept of a refused file")
				if tc.wantErr == blobs.ErrInfected {
					var ie *blobs.InfectedError
					require.ErrorAs(t, err, &ie)
					require.Equal(t, "Eicar-Test-Signature", ie.Virus)
				}
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.wantUnscanned, b.Unscanned)
			rc, err := s.Open(context.Background(), b.Key)
			require.NoError(t, err)
			defer rc.Close()
			var got bytes.Buffer
			_, _ = got.ReadFrom(rc)
			require.Equal(t, tc.body, got.Bytes(), "the file is kept whole")
		})
	}
}

// A scanner that stops reading early and calls the file clean has not
// checked it: the file is treated as unscanned.
func TestSaveScannerStoppedEarly(t *testing.T) {
	t.Parallel()
	s, err := blobs.NewLocal(t.TempDir())
	require.NoError(t, err)
	body := append(append([]byte{}, pdf...), bytes.Repeat([]byte("x"), 200_000)...)
	_, err = blobs.Save(context.Background(), s, "a.pdf", bytes.NewReader(body), blobs.Limits{Scanner: quitter{}})
	require.ErrorIs(t, err, blobs.ErrScanUnavailable)
}

type quitter struct{}

func (quitter) Scan(context.Context, io.Reader) (string, error) {
	return "", nil
}
