package clamd

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"time"
)

// Config says where clamd listens.
type Config struct {
	// Address is host:port (TCP, clamd's TCPSocket), or a unix socket as
	// "unix:/run/clamav/clamd.ctl" or an absolute path.
	Address string
	// Timeout bounds connecting and each exchange with clamd (one chunk
	// sent, the answer read); 0 means DefaultTimeout. A clamd slower than
	// this counts as unreachable.
	Timeout time.Duration
	// ChunkSize is the largest chunk sent; 0 means DefaultChunkSize.
	ChunkSize int
}

// DefaultTimeout is Config.Timeout when unset.
const DefaultTimeout = 10 * time.Second

// DefaultChunkSize is Config.ChunkSize when unset: 64 KiB.
const DefaultChunkSize = 64 << 10

// ErrUnavailable says clamd could not be asked, or gave no usable answer
// (down, too slow, an error reply, a malformed reply): nothing is known
// about the file.
var ErrUnavailable = errors.New("clamd: scanner unavailable")

// ErrMalformedReply says clamd's answer is not one ParseReply knows.
var ErrMalformedReply = errors.New("clamd: malformed reply")

// Client asks one clamd. It keeps no connection: each scan dials.
type Client struct {
	network, addr string
	timeout       time.Duration
	chunk         int
}

// New returns a Client for c.
func New(c Config) (*Client, error) {
	if strings.TrimSpace(c.Address) == "" {
		return nil, errors.New("clamd: no address")
	}
	network, addr := "tcp", c.Address
	if a, ok := strings.CutPrefix(c.Address, "unix:"); ok {
		network, addr = "unix", a
	} else if a, ok := strings.CutPrefix(c.Address, "tcp:"); ok {
		addr = a
	} else if strings.HasPrefix(c.Address, "/") {
		network = "unix"
	}
	return &Client{network: network, addr: addr, timeout: cmp.Or(c.Timeout, DefaultTimeout), chunk: cmp.Or(c.ChunkSize, DefaultChunkSize)}, nil
}

// Scan sends all of r to clamd and returns the virus found ("" when the
// file is clean). An error wraps ErrUnavailable when clamd could not say.
func (c *Client) Scan(ctx context.Context, r io.Reader) (string, error) {
	s, err := c.Start(ctx)
	if err != nil {
		return "", err
	}
	if _, err := io.Copy(s, r); err != nil && !errors.Is(err, ErrUnavailable) {
		_, _ = s.Verdict()
		return "", fmt.Errorf("clamd: read file: %w", err)
	}
	return s.Verdict()
}

// Start opens a scan: write the file to the Stream, then ask its Verdict.
func (c *Client) Start(ctx context.Context) (*Stream, error) {
	d := net.Dialer{Timeout: c.timeout}
	conn, err := d.DialContext(ctx, c.network, c.addr)
	if err != nil {
		return nil, fmt.Errorf("%w: connect %s: %v", ErrUnavailable, c.addr, err)
	}
	s := &Stream{conn: conn, timeout: c.timeout, chunk: c.chunk}
	// The context's end closes the connection: a closed connection stays
	// closed, where a cut made by a past deadline was undone by the next
	// deadline set for a write or the verdict (the scan then waited for
	// clamd's answer).
	stop := context.AfterFunc(ctx, func() { _ = conn.Close() })
	s.stop = stop
	if err := s.send([]byte("zINSTREAM\x00")); err != nil {
		s.close()
		return nil, fmt.Errorf("%w: send command: %v", ErrUnavailable, err)
	}
	return s, nil
}

// Stream is one INSTREAM scan under way.
type Stream struct {
	conn    net.Conn
	timeout time.Duration
	chunk   int
	stop    func() bool
	werr    error // the first write error; clamd may have hung up early
	done    bool
	hdr     [4]byte
}

// Write sends p to clamd as chunks. After a failed write it discards p
// and returns no error: Verdict says what happened (clamd hangs up early
// when a file is over its StreamMaxLength, and then says so).
func (s *Stream) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 && s.werr == nil {
		k := min(len(p), s.chunk)
		binary.BigEndian.PutUint32(s.hdr[:], uint32(k))
		if err := s.send(s.hdr[:], p[:k]); err != nil {
			s.werr = err
		}
		p = p[k:]
	}
	return n, nil
}

func (s *Stream) send(bufs ...[]byte) error {
	if err := s.conn.SetWriteDeadline(time.Now().Add(s.timeout)); err != nil {
		return err
	}
	nb := net.Buffers(bufs)
	_, err := nb.WriteTo(s.conn)
	return err
}

// Verdict ends the stream and reads clamd's answer: the virus found, ""
// when the file is clean, or an error wrapping ErrUnavailable.
func (s *Stream) Verdict() (string, error) {
	if s.done {
		return "", fmt.Errorf("%w: verdict asked twice", ErrUnavailable)
	}
	s.done = true
	defer s.close()
	if s.werr == nil {
		s.werr = s.send([]byte{0, 0, 0, 0})
	}
	if err := s.conn.SetReadDeadline(time.Now().Add(s.timeout)); err != nil {
		return "", fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	line, rerr := bufio.NewReaderSize(io.LimitReader(s.conn, maxReply), maxReply).ReadBytes(0)
	if len(line) == 0 || (rerr != nil && !errors.Is(rerr, io.EOF)) {
		cause := cmp.Or(rerr, s.werr)
		return "", fmt.Errorf("%w: no answer: %v", ErrUnavailable, cause)
	}
	virus, err := ParseReply(line)
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	return virus, nil
}

// maxReply bounds the answer read from clamd.
const maxReply = 4096

func (s *Stream) close() {
	s.stop()
	_ = s.conn.Close()
}

// ParseReply reads one answer of clamd to INSTREAM ("stream: OK",
// "stream: <virus> FOUND", "<message> ERROR", with or without the
// ending NUL or newline). It returns the virus named, "" for a clean
// file, or an error: ErrMalformedReply for an answer it does not know, a
// plain error carrying clamd's message for an ERROR answer.
func ParseReply(b []byte) (string, error) {
	s := string(bytes.TrimRight(b, "\x00\r\n"))
	body, ok := strings.CutPrefix(s, "stream: ")
	if !ok {
		// Some builds answer "1: stream: OK" when asked with an id.
		if _, rest, found := strings.Cut(s, ": stream: "); found {
			body, ok = rest, true
		}
	}
	switch {
	case ok && body == "OK":
		return "", nil
	case ok && strings.HasSuffix(body, " FOUND"):
		virus := strings.TrimSpace(strings.TrimSuffix(body, " FOUND"))
		if virus == "" || !printable(virus) {
			return "", fmt.Errorf("%w: %q", ErrMalformedReply, short(s))
		}
		return virus, nil
	case strings.HasSuffix(s, " ERROR") && printable(s):
		return "", fmt.Errorf("clamd: %s", short(s))
	}
	return "", fmt.Errorf("%w: %q", ErrMalformedReply, short(s))
}

func printable(s string) bool {
	for _, r := range s {
		if r < 0x20 || r == 0x7f || r == '\uFFFD' {
			return false
		}
	}
	return true
}

func short(s string) string {
	if len(s) > 200 {
		return s[:200] + "…"
	}
	return s
}
