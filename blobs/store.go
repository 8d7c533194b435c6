package blobs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
)

// Store keeps blobs by key.
type Store interface {
	// Put stores the content of r under key. The key names the blob only
	// once Put returned nil: a failed or interrupted Put leaves nothing
	// under key. size is the length of r, or -1 when unknown.
	Put(ctx context.Context, key string, r io.Reader, size int64) error
	// Open reads the blob under key; ErrNotFound when there is none.
	Open(ctx context.Context, key string) (io.ReadCloser, error)
	// Delete removes the blob under key; no error when there is none.
	Delete(ctx context.Context, key string) error
}

// ErrNotFound says no blob has the key.
var ErrNotFound = errors.New("blobs: not found")

// ErrBadKey says a key is not one that NewKey makes.
var ErrBadKey = errors.New("blobs: malformed key")

var keyRE = regexp.MustCompile(`^[0-9a-f]{32}$`)

func checkKey(key string) error {
	if !keyRE.MatchString(key) {
		return fmt.Errorf("%w: %q", ErrBadKey, key)
	}
	return nil
}

// Local keeps blobs as files in one folder.
type Local struct {
	dir string
}

var _ Store = (*Local)(nil)

// NewLocal returns a Store in dir, made if missing.
func NewLocal(dir string) (*Local, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("blobs: make folder %s: %w", dir, err)
	}
	return &Local{dir: dir}, nil
}

// Put writes r to a temporary file, syncs it, and renames it to key: a
// process killed before the rename leaves only a temporary file, which
// no key names (and Sweep removes).
func (l *Local) Put(ctx context.Context, key string, r io.Reader, _ int64) (err error) {
	if err := checkKey(key); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(l.dir, tmpPrefix+"*")
	if err != nil {
		return fmt.Errorf("blobs: create temporary file: %w", err)
	}
	defer func() {
		if err != nil {
			_ = tmp.Close()
			_ = os.Remove(tmp.Name())
		}
	}()
	if _, err = io.Copy(tmp, ctxReader{ctx, r}); err != nil {
		return fmt.Errorf("blobs: write %s: %w", key, err)
	}
	if err = tmp.Sync(); err != nil {
		return fmt.Errorf("blobs: sync %s: %w", key, err)
	}
	if err = tmp.Close(); err != nil {
		return fmt.Errorf("blobs: close %s: %w", key, err)
	}
	if err = os.Rename(tmp.Name(), filepath.Join(l.dir, key)); err != nil {
		return fmt.Errorf("blobs: rename %s into place: %w", key, err)
	}
	// The rename itself is durable once the folder is synced.
	if d, derr := os.Open(l.dir); derr == nil {
		_ = d.Sync()
		_ = d.Close()
	}
	return nil
}

// tmpPrefix starts the names of files being written.
const tmpPrefix = ".upload-"

// Open opens the file of key.
func (l *Local) Open(_ context.Context, key string) (io.ReadCloser, error) {
	if err := checkKey(key); err != nil {
		return nil, err
	}
	f, err := os.Open(filepath.Join(l.dir, key))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: %s", ErrNotFound, key)
	}
	if err != nil {
		return nil, fmt.Errorf("blobs: open %s: %w", key, err)
	}
	return f, nil
}

// Delete removes the file of key.
func (l *Local) Delete(_ context.Context, key string) error {
	if err := checkKey(key); err != nil {
		return err
	}
	if err := os.Remove(filepath.Join(l.dir, key)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("blobs: delete %s: %w", key, err)
	}
	return nil
}

// Sweep removes temporary files left by a process killed mid-upload.
// Call it at start, before any upload of this process.
func (l *Local) Sweep() (int, error) {
	matches, err := filepath.Glob(filepath.Join(l.dir, tmpPrefix+"*"))
	if err != nil {
		return 0, fmt.Errorf("blobs: list temporary files: %w", err)
	}
	for _, m := range matches {
		if err := os.Remove(m); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return 0, fmt.Errorf("blobs: remove %s: %w", m, err)
		}
	}
	return len(matches), nil
}

// ctxReader stops reading when ctx is done.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
