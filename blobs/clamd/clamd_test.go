package clamd_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/blobs/clamd"
	"github.com/flowbot/flowbot/blobs/clamd/clamdtest"
)

// The client asks a clamd that speaks the real INSTREAM protocol, over
// TCP and a unix socket, and reads each of its answers right.
func TestScan(t *testing.T) {
	t.Parallel()
	pdf := []byte("%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\n")
	for _, tc := range []struct {
		name      string
		unix      bool
		chunk     int
		body      []byte
		setup     func(*clamdtest.Server)
		wantVirus string
		wantErr   string // "" = no error; else a part of it (always ErrUnavailable)
	}{
		{name: "clean", body: pdf},
		{name: "eicar", body: []byte(clamdtest.EICAR), wantVirus: "Eicar-Test-Signature"},
		{name: "eicar inside a larger file, across chunks", chunk: 7, body: append(append(bytes.Repeat([]byte("a"), 1000), clamdtest.EICAR...), "tail"...), wantVirus: "Eicar-Test-Signature"},
		{name: "clean over a unix socket", unix: true, body: pdf},
		{name: "eicar over a unix socket", unix: true, body: []byte(clamdtest.EICAR), wantVirus: "Eicar-Test-Signature"},
		{name: "empty file", body: nil},
		{name: "clamd down", body: pdf, setup: func(s *clamdtest.Server) { s.Close() }, wantErr: "connect"},
		{name: "slow clamd", body: pdf, setup: func(s *clamdtest.Server) { s.SetDelay(5 * time.Second) }, wantErr: "no answer"},
		{name: "malformed answer", body: pdf, setup: func(s *clamdtest.Server) { s.SetReply("stream: MAYBE") }, wantErr: "malformed reply"},
		{name: "garbage answer", body: pdf, setup: func(s *clamdtest.Server) { s.SetReply("\xff\xfe") }, wantErr: "malformed reply"},
		{name: "over clamd's stream limit", body: bytes.Repeat([]byte("x"), 5000), setup: func(s *clamdtest.Server) { s.MaxStream.Store(1000) }, wantErr: "size limit exceeded"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := clamdtest.Start(t)
			if tc.unix {
				srv = clamdtest.StartUnix(t)
			}
			if tc.setup != nil {
				tc.setup(srv)
			}
			c, err := clamd.New(clamd.Config{Address: srv.Address(), Timeout: time.Second, ChunkSize: tc.chunk})
			require.NoError(t, err)
			virus, err := c.Scan(context.Background(), bytes.NewReader(tc.body))
			if tc.wantErr != "" {
				require.ErrorIs(t, err, clamd.ErrUnavailable)
				require.Contains(t, err.Error(), tc.wantErr)
				require.Empty(t, virus)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.wantVirus, virus)
			got := srv.Scanned()
			require.Len(t, got, 1)
			require.Equal(t, len(tc.body), len(got[0]), "clamd got the whole file")
		})
	}
}

// A cancelled context ends a scan at once, as unavailable.
func TestScanCancelled(t *testing.T) {
	t.Parallel()
	srv := clamdtest.Start(t)
	srv.SetDelay(5 * time.Second)
	c, err := clamd.New(clamd.Config{Address: srv.Address(), Timeout: time.Minute})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	s, err := c.Start(ctx)
	require.NoError(t, err)
	_, _ = s.Write([]byte("hello"))
	cancel()
	_, err = s.Verdict()
	require.ErrorIs(t, err, clamd.ErrUnavailable)
}

func TestNewRefusesNoAddress(t *testing.T) {
	t.Parallel()
	_, err := clamd.New(clamd.Config{Address: "  "})
	require.Error(t, err)
}

func TestParseReply(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in        string
		virus     string
		malformed bool
		errPart   string
	}{
		{in: "stream: OK\x00"},
		{in: "stream: OK\n"},
		{in: "stream: OK"},
		{in: "1: stream: OK\x00"},
		{in: "stream: Eicar-Test-Signature FOUND\x00", virus: "Eicar-Test-Signature"},
		{in: "stream: Win.Test.EICAR_HDB-1 FOUND\n", virus: "Win.Test.EICAR_HDB-1"},
		{in: "INSTREAM size limit exceeded. ERROR\x00", errPart: "size limit exceeded"},
		{in: "", malformed: true},
		{in: "\x00", malformed: true},
		{in: "stream: FOUND", malformed: true},
		{in: "stream:  FOUND", malformed: true},
		{in: "stream: OKAY", malformed: true},
		{in: "PONG", malformed: true},
		{in: "stream: a\x01b FOUND", malformed: true},
		{in: "\x01 ERROR", malformed: true},
	} {
		t.Run(strings.ToValidUTF8(tc.in, "?"), func(t *testing.T) {
			t.Parallel()
			virus, err := clamd.ParseReply([]byte(tc.in))
			switch {
			case tc.malformed:
				require.ErrorIs(t, err, clamd.ErrMalformedReply)
			case tc.errPart != "":
				require.ErrorContains(t, err, tc.errPart)
			default:
				require.NoError(t, err)
			}
			require.Equal(t, tc.virus, virus)
		})
	}
}

// FuzzParseReply: any answer gives a virus name or an error, never both,
// never a panic; a name is printable and has no NUL.
func FuzzParseReply(f *testing.F) {
	for _, s := range []string{"stream: OK\x00", "stream: Eicar-Test-Signature FOUND\x00", "INSTREAM size limit exceeded. ERROR\x00", "1: stream: OK", "", "stream: FOUND"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		virus, err := clamd.ParseReply(b)
		if err != nil && virus != "" {
			t.Fatalf("both a virus %q and an error %v", virus, err)
		}
		if strings.ContainsAny(virus, "\x00\n\r") {
			t.Fatalf("virus name %q has control characters", virus)
		}
	})
}
