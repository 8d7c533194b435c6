package clamdtest

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// EICAR is the antivirus test file every scanner reports as
// "Eicar-Test-Signature".
const EICAR = `X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*`

// Server is a fake clamd.
type Server struct {
	ln   net.Listener
	addr string

	// Delay is waited before each answer (a slow clamd).
	Delay atomic.Int64 // nanoseconds
	// Reply, when set, is sent instead of the real answer (a malformed one).
	reply atomic.Pointer[string]
	// MaxStream is clamd's StreamMaxLength: a stream longer than this is
	// answered "INSTREAM size limit exceeded. ERROR" and the connection
	// closed (0: 25 MiB, clamd's default).
	MaxStream atomic.Int64

	mu      sync.Mutex
	scanned [][]byte
	wg      sync.WaitGroup
	closed  atomic.Bool
	done    chan struct{}
}

// Start runs a fake clamd on a free TCP port of 127.0.0.1; it stops
// with the test.
func Start(tb testing.TB) *Server {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("clamdtest: listen: %v", err)
	}
	return serve(tb, ln, ln.Addr().String())
}

// StartUnix runs a fake clamd on a unix socket in a temporary folder; its
// Address is "unix:<path>".
func StartUnix(tb testing.TB) *Server {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "clamd.sock")
	ln, err := net.Listen("unix", path)
	if err != nil {
		tb.Fatalf("clamdtest: listen: %v", err)
	}
	return serve(tb, ln, "unix:"+path)
}

func serve(tb testing.TB, ln net.Listener, addr string) *Server {
	s := &Server{ln: ln, addr: addr, done: make(chan struct{})}
	s.wg.Add(1)
	go s.accept()
	tb.Cleanup(s.Close)
	return s
}

// Address is where the fake listens, as clamd.Config.Address takes it.
func (s *Server) Address() string { return s.addr }

// SetReply makes every answer r (sent as is, then a NUL); "" restores
// real answers.
func (s *Server) SetReply(r string) {
	if r == "" {
		s.reply.Store(nil)
		return
	}
	s.reply.Store(&r)
}

// SetDelay makes the fake wait d before each answer.
func (s *Server) SetDelay(d time.Duration) { s.Delay.Store(int64(d)) }

// Scanned returns the files received whole, in order.
func (s *Server) Scanned() [][]byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([][]byte(nil), s.scanned...)
}

// Close stops listening (clamd is down) and waits for open scans.
func (s *Server) Close() {
	if s.closed.Swap(true) {
		return
	}
	close(s.done)
	_ = s.ln.Close()
	s.wg.Wait()
}

func (s *Server) accept() {
	defer s.wg.Done()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer c.Close()
			_ = c.SetDeadline(time.Now().Add(30 * time.Second))
			s.session(c)
		}()
	}
}

// session answers one command, as clamd does for INSTREAM.
func (s *Server) session(c net.Conn) {
	r := bufio.NewReader(c)
	cmd, term, err := readCommand(r)
	if err != nil {
		return
	}
	if cmd != "INSTREAM" {
		_, _ = c.Write([]byte("UNKNOWN COMMAND" + string(term)))
		return
	}
	limit := s.MaxStream.Load()
	if limit <= 0 {
		limit = 25 << 20
	}
	var file bytes.Buffer
	var hdr [4]byte
	for {
		if _, err := io.ReadFull(r, hdr[:]); err != nil {
			return
		}
		n := int64(binary.BigEndian.Uint32(hdr[:]))
		if n == 0 {
			break
		}
		if int64(file.Len())+n > limit {
			_, _ = c.Write([]byte("INSTREAM size limit exceeded. ERROR" + string(term)))
			return
		}
		if _, err := io.CopyN(&file, r, n); err != nil {
			return
		}
	}
	s.mu.Lock()
	s.scanned = append(s.scanned, bytes.Clone(file.Bytes()))
	s.mu.Unlock()
	if d := time.Duration(s.Delay.Load()); d > 0 {
		select {
		case <-time.After(d):
		case <-s.done:
			return
		}
	}
	answer := "stream: OK"
	if bytes.Contains(file.Bytes(), []byte(EICAR)) {
		answer = "stream: Eicar-Test-Signature FOUND"
	}
	if p := s.reply.Load(); p != nil {
		answer = *p
	}
	_, _ = c.Write([]byte(answer + string(term)))
}

// readCommand reads "zCMD\0", "nCMD\n" or a bare "CMD\n".
func readCommand(r *bufio.Reader) (string, byte, error) {
	first, err := r.ReadByte()
	if err != nil {
		return "", 0, err
	}
	term := byte('\n')
	switch first {
	case 'z':
		term = 0
	case 'n':
	default:
		_ = r.UnreadByte()
	}
	line, err := r.ReadBytes(term)
	if err != nil {
		return "", 0, err
	}
	if len(line) > 64 {
		return "", 0, errors.New("clamdtest: command too long")
	}
	return string(bytes.TrimSuffix(line, []byte{term})), term, nil
}
