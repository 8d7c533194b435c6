package blobs

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"

	"github.com/gabriel-vasile/mimetype"
)

// Limits say which files a field takes.
type Limits struct {
	// MaxBytes is the largest size taken; 0 means DefaultMaxBytes.
	MaxBytes int64
	// Types are the content types taken, as sniffed from the content:
	// "application/pdf", or a family "image/*". Empty means any type that
	// is not an executable.
	Types []string
	// Scanner, when set, checks the content for viruses while it is
	// written: a file found infected is refused and nothing is kept.
	Scanner Scanner
	// AcceptUnscanned keeps a file the Scanner could not check (down, too
	// slow, a bad answer) and marks it Unscanned; false refuses it with
	// ErrScanUnavailable.
	AcceptUnscanned bool
	// Kept, when set, is told the new blob's key before its content is
	// written (a Ledger's Kept): a process killed mid-upload then leaves
	// a key the Cleaner finds. An error stops the save, nothing kept.
	Kept func(ctx context.Context, key string) error
}

// Scanner looks for viruses in the content read from r: it returns the
// name of the virus found, "" for a clean file, or an error when it could
// not tell. It need not read r to its end when it fails.
type Scanner interface {
	Scan(ctx context.Context, r io.Reader) (virus string, err error)
}

// DefaultMaxBytes is the size limit when Limits names none: 20 MiB.
const DefaultMaxBytes = 20 << 20

// Blob is a kept file: what a request stores to name its attachment.
type Blob struct {
	Key  string `json:"key"`
	Name string `json:"name"`
	Type string `json:"type"` // sniffed content type
	Size int64  `json:"size"`
	// Unscanned: a Scanner was set but could not check the file, and
	// Limits.AcceptUnscanned kept it anyway.
	Unscanned bool `json:"unscanned,omitempty"`
}

// Reasons a file is refused; callers tell the user (errors.Is).
var (
	ErrTooLarge   = errors.New("blobs: file too large")
	ErrType       = errors.New("blobs: file type not allowed")
	ErrExecutable = errors.New("blobs: executable files are not allowed")
	ErrEmpty      = errors.New("blobs: empty file")
	// ErrInfected: the Scanner found a virus (the error is an *InfectedError).
	ErrInfected = errors.New("blobs: virus found")
	// ErrScanUnavailable: the Scanner could not check the file, and
	// Limits.AcceptUnscanned is false.
	ErrScanUnavailable = errors.New("blobs: virus scanner unavailable")
)

// InfectedError names the virus found in a file; errors.Is(err,
// ErrInfected) holds.
type InfectedError struct {
	Name, Virus string
}

func (e *InfectedError) Error() string {
	return fmt.Sprintf("blobs: virus %s found in %s", e.Virus, e.Name)
}

// Is makes errors.Is(err, ErrInfected) hold.
func (e *InfectedError) Is(target error) bool { return target == ErrInfected }

// executableTypes are sniffed types refused whatever the limits say.
var executableTypes = []string{
	"application/vnd.microsoft.portable-executable", "application/x-msdownload", "application/x-dosexec",
	"application/x-executable", "application/x-elf", "application/x-sharedlib", "application/x-mach-binary",
	"application/x-msi", "application/x-ms-installer", "text/x-shellscript", "application/x-bat",
	"application/java-archive", "application/x-java-applet",
}

// executableExts are file name endings refused whatever the content.
var executableExts = []string{
	".exe", ".dll", ".com", ".scr", ".msi", ".bat", ".cmd", ".ps1", ".vbs", ".js", ".jar", ".sh", ".app", ".apk", ".elf", ".so", ".dylib",
}

// NewKey returns a fresh random blob key.
func NewKey() string {
	var p [16]byte
	_, _ = rand.Read(p[:])
	return hex.EncodeToString(p[:])
}

// Save checks and keeps the file name read from r: its content type is
// sniffed from its first bytes (the name's extension is not trusted),
// executables are refused, and the size is counted while it is written,
// so that a file over the limit is cut off and nothing is kept. The
// returned Blob is complete in s; store it only after Save returned.
func Save(ctx context.Context, s Store, name string, r io.Reader, lim Limits) (Blob, error) {
	limit := lim.MaxBytes
	if limit <= 0 {
		limit = DefaultMaxBytes
	}
	name = cleanName(name)
	if slices.Contains(executableExts, strings.ToLower(filepath.Ext(name))) {
		return Blob{}, fmt.Errorf("%w: %s", ErrExecutable, name)
	}
	br := bufio.NewReaderSize(r, 3072)
	head, err := br.Peek(3072)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, bufio.ErrBufferFull) {
		return Blob{}, fmt.Errorf("blobs: read %s: %w", name, err)
	}
	if len(head) == 0 {
		return Blob{}, fmt.Errorf("%w: %s", ErrEmpty, name)
	}
	typ := Sniff(head)
	if err := CheckType(typ, lim.Types); err != nil {
		return Blob{}, fmt.Errorf("%w (%s)", err, name)
	}
	cr := &countReader{r: br, max: limit}
	var body io.Reader = cr
	var sc *scanReader
	if lim.Scanner != nil {
		sc = startScan(ctx, lim.Scanner, cr, name, lim.AcceptUnscanned)
		body = sc
	}
	key := NewKey()
	if lim.Kept != nil {
		if err := lim.Kept(ctx, key); err != nil {
			if sc != nil {
				sc.abort()
			}
			return Blob{}, fmt.Errorf("record %s before keeping it: %w", name, err)
		}
	}
	if err := s.Put(ctx, key, body, -1); err != nil {
		if sc != nil {
			sc.abort()
		}
		if cr.over {
			return Blob{}, fmt.Errorf("%w: %s is over %d bytes", ErrTooLarge, name, limit)
		}
		if sc != nil && sc.refusal != nil {
			return Blob{}, sc.refusal
		}
		return Blob{}, fmt.Errorf("keep %s: %w", name, err)
	}
	b := Blob{Key: key, Name: name, Type: typ, Size: cr.n}
	if sc != nil {
		b.Unscanned = sc.unscanned
	}
	return b, nil
}

// Sniff returns the content type of a file from its first bytes.
func Sniff(head []byte) string {
	m := mimetype.Detect(head)
	t, _, _ := strings.Cut(m.String(), ";")
	return t
}

// CheckType refuses executables, and types not in allowed (when it names
// any).
func CheckType(typ string, allowed []string) error {
	m := mimetype.Lookup(typ)
	for ; m != nil; m = m.Parent() {
		if slices.Contains(executableTypes, m.String()) {
			return fmt.Errorf("%w: %s", ErrExecutable, typ)
		}
	}
	if slices.Contains(executableTypes, typ) {
		return fmt.Errorf("%w: %s", ErrExecutable, typ)
	}
	if len(allowed) == 0 {
		return nil
	}
	for _, a := range allowed {
		if fam, ok := strings.CutSuffix(a, "/*"); ok && strings.HasPrefix(typ, fam+"/") {
			return nil
		}
		if strings.EqualFold(a, typ) {
			return nil
		}
	}
	return fmt.Errorf("%w: %s (allowed: %s)", ErrType, typ, strings.Join(allowed, ", "))
}

// cleanName keeps the last element of a file name, without control
// characters, at most 200 bytes.
func cleanName(name string) string {
	name = filepath.Base(strings.ReplaceAll(name, `\`, "/"))
	name = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r == '"' {
			return -1
		}
		return r
	}, name)
	if name == "." || name == "/" || name == "" {
		name = "file"
	}
	for len(name) > 200 {
		_, size := lastRune(name)
		name = name[:len(name)-size]
	}
	return name
}

func lastRune(s string) (rune, int) {
	for i := len(s) - 1; i >= 0; i-- {
		if s[i]&0xC0 != 0x80 {
			return rune(s[i]), len(s) - i
		}
	}
	return 0, 1
}

// countReader counts bytes and fails once more than max were read.
type countReader struct {
	r    io.Reader
	n    int64
	max  int64
	over bool
}

func (c *countReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	if c.n > c.max {
		c.over = true
		return 0, ErrTooLarge
	}
	return n, err
}
