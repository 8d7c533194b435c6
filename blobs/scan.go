package blobs

import (
	"context"
	"errors"
	"fmt"
	"io"
)

// scanReader hands what it reads to a Scanner running beside it, and at
// the end of the file gives the Scanner's verdict: io.EOF for a clean
// file (or an unscanned one that is accepted), an error otherwise, so
// that Store.Put fails and keeps nothing.
type scanReader struct {
	r      io.Reader
	pw     *io.PipeWriter
	result chan scanResult
	name   string
	accept bool

	got       *scanResult // the verdict, once received
	refusal   error       // why the file is refused; also returned by Read
	unscanned bool
}

type scanResult struct {
	virus string
	err   error
}

func startScan(ctx context.Context, s Scanner, r io.Reader, name string, accept bool) *scanReader {
	pr, pw := io.Pipe()
	sr := &scanReader{r: r, pw: pw, result: make(chan scanResult, 1), name: name, accept: accept}
	go func() {
		virus, err := s.Scan(ctx, pr)
		// A Scanner that stopped early reads no more: writes fail, and
		// scanReader stops writing.
		_ = pr.CloseWithError(errScanDone)
		sr.result <- scanResult{virus, err}
	}()
	return sr
}

var errScanDone = errors.New("blobs: scan ended")

func (s *scanReader) Read(p []byte) (int, error) {
	if s.refusal != nil {
		return 0, s.refusal
	}
	n, err := s.r.Read(p)
	if n > 0 && s.got == nil {
		if _, werr := s.pw.Write(p[:n]); werr != nil {
			// The Scanner ended before the file did: take its verdict
			// now, so a refused file fails at once. A "clean" verdict on
			// part of the file says nothing of the rest.
			if rerr := s.verdict(errors.New("the scanner stopped reading before the end of the file")); rerr != nil {
				return 0, rerr
			}
		}
	}
	if errors.Is(err, io.EOF) {
		_ = s.pw.Close()
		if rerr := s.verdict(nil); rerr != nil {
			return n, rerr
		}
	}
	return n, err
}

// verdict waits for the Scanner and turns its answer into the refusal,
// if any. partial, when set, says the Scanner did not see the whole file.
func (s *scanReader) verdict(partial error) error {
	if s.got == nil {
		r := <-s.result
		if r.err == nil && r.virus == "" && partial != nil {
			r.err = partial
		}
		s.got = &r
		switch {
		case r.err == nil && r.virus != "":
			s.refusal = &InfectedError{Name: s.name, Virus: r.virus}
		case r.err != nil && s.accept:
			s.unscanned = true
		case r.err != nil:
			s.refusal = fmt.Errorf("%w: %s: %w", ErrScanUnavailable, s.name, r.err)
		}
	}
	return s.refusal
}

// abort ends the scan of a file that will not be kept.
func (s *scanReader) abort() {
	_ = s.pw.CloseWithError(errScanDone)
	if s.got == nil {
		_ = s.verdict(nil)
	}
}
