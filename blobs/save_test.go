package blobs_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/blobs"
)

var (
	pdf = append([]byte("%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\n"), bytes.Repeat([]byte(" "), 100)...)
	png = []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00\x90wS\xde")
	pe  = append([]byte("MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00"), bytes.Repeat([]byte{0}, 200)...)
	elf = append([]byte("\x7fELF\x02\x01\x01\x00"), bytes.Repeat([]byte{0}, 200)...)
)

// Save keeps a file that passes the checks and refuses, keeping nothing,
// one that does not.
func TestSave(t *testing.T) {
	t.Parallel()
	receipts := blobs.Limits{MaxBytes: 1000, Types: []string{"application/pdf", "image/*"}}
	for _, tc := range []struct {
		name     string
		file     string
		body     []byte
		lim      blobs.Limits
		wantErr  error
		wantType string
	}{
		{"pdf receipt", "发票.pdf", pdf, receipts, nil, "application/pdf"},
		{"png photo", "photo.png", png, receipts, nil, "image/png"},
		{"any type when the flow names none", "notes.txt", []byte("hello"), blobs.Limits{}, nil, "text/plain"},
		{"type sniffed, not taken from the name", "invoice.pdf", []byte("just text, not a pdf"), receipts, blobs.ErrType, ""},
		{"too big", "big.pdf", append(append([]byte{}, pdf...), bytes.Repeat([]byte("x"), 2000)...), receipts, blobs.ErrTooLarge, ""},
		{"windows executable renamed", "receipt.pdf", pe, blobs.Limits{}, blobs.ErrExecutable, ""},
		{"linux executable", "tool", elf, blobs.Limits{}, blobs.ErrExecutable, ""},
		{"shell script", "run.txt", []byte("#!/bin/sh\nrm -rf /\n"), blobs.Limits{}, blobs.ErrExecutable, ""},
		{"executable by name", "setup.exe", []byte("hello"), blobs.Limits{}, blobs.ErrExecutable, ""},
		{"empty", "empty.pdf", nil, blobs.Limits{}, blobs.ErrEmpty, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			s, err := blobs.NewLocal(dir)
			require.NoError(t, err)
			b, err := blobs.Save(context.Background(), s, tc.file, bytes.NewReader(tc.body), tc.lim)
			if tc.wantErr != nil {
				require.ErrorIs(t, err, tc.wantErr)
				require.Empty(t, b.Key)
				require.Empty(t, files(t, dir), "nothing is kept of a refused file")
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.wantType, b.Type)
			require.Equal(t, int64(len(tc.body)), b.Size)
			require.Equal(t, tc.file, b.Name)
			require.Equal(t, tc.body, read(t, s, b.Key))
		})
	}
}

// A file name from a platform is reduced to its last element, without
// control characters.
func TestSaveCleansName(t *testing.T) {
	t.Parallel()
	s, err := blobs.NewLocal(t.TempDir())
	require.NoError(t, err)
	for in, want := range map[string]string{
		`..\..\windows\evil.pdf`: "evil.pdf", "../../a.pdf": "a.pdf", "a\r\nb\".pdf": "ab.pdf", "": "file", strings.Repeat("长", 100) + ".pdf": strings.Repeat("长", 66),
	} {
		b, err := blobs.Save(context.Background(), s, in, bytes.NewReader(pdf), blobs.Limits{})
		require.NoError(t, err)
		require.Equal(t, want, b.Name, "name %q", in)
	}
}
