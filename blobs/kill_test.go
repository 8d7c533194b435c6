package blobs_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/blobs"
)

// slowReader gives a PDF header, then an endless stream, and says on
// started when the first bytes were read.
type slowReader struct {
	head    []byte
	started chan<- struct{}
}

func (s *slowReader) Read(p []byte) (int, error) {
	if len(s.head) > 0 {
		n := copy(p, s.head)
		s.head = s.head[n:]
		return n, nil
	}
	if s.started != nil {
		close(s.started)
		s.started = nil
	}
	time.Sleep(time.Millisecond)
	for i := range p {
		p[i] = ' '
	}
	return len(p), nil
}

// TestKilledMidUpload runs a child process that uploads a file through
// Save into a local store and is killed (SIGKILL) mid-upload. No key then
// names a file: only a temporary file is left, which Sweep removes.
func TestKilledMidUpload(t *testing.T) {
	t.Parallel()
	if os.Getenv("BLOBS_CHILD_DIR") != "" {
		t.Skip("child")
	}
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestUploadChild$", "-test.v")
	cmd.Env = append(os.Environ(), "BLOBS_CHILD_DIR="+dir)
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	sc := bufio.NewScanner(out)
	writing := false
	for sc.Scan() {
		if strings.Contains(sc.Text(), "WRITING") {
			writing = true
			break
		}
	}
	require.True(t, writing, "the child started writing")
	require.NoError(t, cmd.Process.Kill())
	_ = cmd.Wait()
	go io.Copy(io.Discard, out) //nolint:errcheck // drain

	names := files(t, dir)
	require.NotEmpty(t, names, "the child was killed while writing a temporary file")
	for _, n := range names {
		require.True(t, strings.HasPrefix(n, ".upload-"), "only temporary files are left, got %q", n)
	}
	s, err := blobs.NewLocal(dir)
	require.NoError(t, err)
	n, err := s.Sweep()
	require.NoError(t, err)
	require.Equal(t, len(names), n)
	require.Empty(t, files(t, dir))
}

// TestUploadChild is the child of TestKilledMidUpload: it uploads for
// ever, saying WRITING once the temporary file has data.
func TestUploadChild(t *testing.T) {
	dir := os.Getenv("BLOBS_CHILD_DIR")
	if dir == "" {
		t.Skip("run by TestKilledMidUpload")
	}
	s, err := blobs.NewLocal(dir)
	require.NoError(t, err)
	started := make(chan struct{})
	go func() {
		<-started
		for {
			m, _ := filepath.Glob(filepath.Join(dir, ".upload-*"))
			if len(m) > 0 {
				if fi, err := os.Stat(m[0]); err == nil && fi.Size() > 0 {
					fmt.Println("WRITING")
					return
				}
			}
			time.Sleep(5 * time.Millisecond)
		}
	}()
	_, err = blobs.Save(context.Background(), s, "big.pdf", &slowReader{head: pdf, started: started}, blobs.Limits{MaxBytes: 1 << 40})
	t.Fatalf("the upload ended: %v", err)
}
