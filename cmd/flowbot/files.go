package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"time"

	"github.com/flowbot/flowbot/blobs"
	"github.com/flowbot/flowbot/blobs/clamd"
	"github.com/flowbot/flowbot/bots"
	"github.com/flowbot/flowbot/dashboard"
	"github.com/flowbot/flowbot/flows"
	"github.com/flowbot/flowbot/flows/flowdef"
)

// AttachmentsConfig says where attachments (file fields) are kept and how
// links to them are signed.
type AttachmentsConfig struct {
	// Store is "local" (a folder, the default), "s3" (an S3-compatible
	// bucket, for several replicas) or "off" (file fields cannot be filled).
	Store string `yaml:"store"`
	// Dir is the local folder; empty: "attachments" beside the SQLite
	// database (./attachments with PostgreSQL).
	Dir string `yaml:"dir"`
	S3  struct {
		Endpoint  string `yaml:"endpoint"` // host[:port]
		Bucket    string `yaml:"bucket"`
		Prefix    string `yaml:"prefix"`
		Region    string `yaml:"region"`
		AccessKey string `yaml:"access_key"`
		SecretKey string `yaml:"secret_key"`
		Insecure  bool   `yaml:"insecure"` // plain HTTP
	} `yaml:"s3"`
	// MaxSize bounds every file in bytes; a flow's max_size can only be
	// smaller.
	MaxSize int64 `yaml:"max_size"`
	// LinkSecret signs links (32 bytes or more; the same on every
	// replica). Empty: a random secret, so links end with the process.
	LinkSecret string `yaml:"link_secret"`
	// LinkTTL is how long a link on a card opens the file.
	LinkTTL time.Duration `yaml:"link_ttl"`
	// PublicURL is the address people reach this server at, put before
	// links on cards ("https://flowbot.example.com"); empty: links are
	// relative (enough for the playground).
	PublicURL string `yaml:"public_url"`
	// Clamd: every file is scanned for viruses by a ClamAV daemon before
	// it is kept (empty address: no scan).
	Clamd ClamdConfig `yaml:"clamd"`
	// OrphanRetention is how long a file sent or uploaded but never part
	// of a submitted request is kept before it is deleted (checked hourly).
	OrphanRetention time.Duration `yaml:"orphan_retention"`
}

// ClamdConfig says where clamd listens and what to do when it cannot
// scan a file.
type ClamdConfig struct {
	// Address is host:port, or unix:/path/to/clamd.ctl; empty: no scan.
	Address string `yaml:"address"`
	// Timeout bounds connecting and each exchange with clamd.
	Timeout time.Duration `yaml:"timeout"`
	// WhenDown is what happens to a file clamd could not scan (down, too
	// slow, a bad answer): "refuse" (the default; the user is told to try
	// again later) or "accept" (kept, logged, and marked "not
	// virus-scanned" on every card).
	WhenDown string `yaml:"when_down"`
}

func (c AttachmentsConfig) validate(bad func(key, format string, a ...any)) {
	switch c.Store {
	case "local", "off":
	case "s3":
		if c.S3.Endpoint == "" || c.S3.Bucket == "" {
			bad("attachments.s3", "needs endpoint and bucket")
		}
	default:
		bad("attachments.store", "must be local, s3 or off, not %q", c.Store)
	}
	if c.LinkSecret != "" && len(c.LinkSecret) < 32 {
		bad("attachments.link_secret", "must be 32 bytes or more")
	}
	if c.LinkTTL <= 0 {
		bad("attachments.link_ttl", "must be positive")
	}
	if c.MaxSize <= 0 {
		bad("attachments.max_size", "must be positive")
	}
	switch c.Clamd.WhenDown {
	case "", "refuse", "accept":
	default:
		bad("attachments.clamd.when_down", "must be refuse or accept, not %q", c.Clamd.WhenDown)
	}
	if c.OrphanRetention < time.Hour {
		bad("attachments.orphan_retention", "must be 1h or more (longer than a conversation), not %s", c.OrphanRetention)
	}
	if c.Clamd.Timeout < 0 {
		bad("attachments.clamd.timeout", "must not be negative")
	}
}

// filesPrefix is the URL path links are served under.
const filesPrefix = "/files/"

// blobFiles is bots.Files on package blobs.
type blobFiles struct {
	store  blobs.Store
	signer *blobs.Signer
	// reports signs the monthly reports' links (same secret, another
	// kind of signature).
	reports *dashboard.ReportSigner
	maxSize int64
	base    string
	scanner blobs.Scanner // nil: no virus scan
	// acceptUnscanned keeps files the scanner could not check.
	acceptUnscanned bool
	log             *slog.Logger
	// ledger records every key before its file is written (nil: the
	// store keeps none); cleaner deletes the orphans it finds.
	ledger  blobs.Ledger
	now     func() time.Time
	cleaner *blobs.Cleaner
}

var _ bots.Files = (*blobFiles)(nil)

func (f *blobFiles) Keep(ctx context.Context, name string, r io.Reader, maxSize int64, accept []string) (flowdef.File, error) {
	if maxSize <= 0 || maxSize > f.maxSize {
		maxSize = f.maxSize
	}
	lim := blobs.Limits{MaxBytes: maxSize, Types: accept, Scanner: f.scanner, AcceptUnscanned: f.acceptUnscanned}
	if f.ledger != nil {
		lim.Kept = func(ctx context.Context, key string) error { return f.ledger.Kept(ctx, key, f.now()) }
	}
	b, err := blobs.Save(ctx, f.store, name, r, lim)
	var infected *blobs.InfectedError
	switch {
	case errors.As(err, &infected):
		f.logger().WarnContext(ctx, "virus found in an uploaded file; not kept", "file", name, "virus", infected.Virus)
		return flowdef.File{}, &bots.FileRefused{Reason: flowdef.Text{
			ZH: "病毒扫描发现该文件带有病毒（" + infected.Virus + "），文件未保存",
			EN: "the virus scan found " + infected.Virus + " in the file; it was not kept"}}
	case errors.Is(err, blobs.ErrScanUnavailable):
		f.logger().ErrorContext(ctx, "virus scanner unavailable; file refused", "file", name, "err", err)
		return flowdef.File{}, &bots.FileRefused{Reason: flowdef.Text{
			ZH: "病毒扫描暂时不可用，文件未保存，请稍后再发送",
			EN: "the virus scanner is unavailable right now; the file was not kept, please send it again later"}}
	case errors.Is(err, blobs.ErrTooLarge):
		return flowdef.File{}, &bots.FileRefused{Reason: flowdef.Text{ZH: "文件太大（上限 " + flowdef.FormatSize(maxSize) + "）", EN: "the file is too large (limit " + flowdef.FormatSize(maxSize) + ")"}}
	case errors.Is(err, blobs.ErrExecutable):
		return flowdef.File{}, &bots.FileRefused{Reason: flowdef.Text{ZH: "不接收可执行文件", EN: "executable files are not taken"}}
	case errors.Is(err, blobs.ErrType):
		return flowdef.File{}, &bots.FileRefused{Reason: flowdef.Text{ZH: "文件类型不符，可接收：" + strings.Join(accept, "、"), EN: "wrong type of file; taken: " + strings.Join(accept, ", ")}}
	case errors.Is(err, blobs.ErrEmpty):
		return flowdef.File{}, &bots.FileRefused{Reason: flowdef.Text{ZH: "文件是空的", EN: "the file is empty"}}
	case err != nil:
		return flowdef.File{}, err
	}
	if b.Unscanned {
		f.logger().WarnContext(ctx, "virus scanner unavailable; file kept unscanned (attachments.clamd.when_down: accept)", "file", name, "key", b.Key)
	}
	return flowdef.File{Key: b.Key, Name: b.Name, Type: b.Type, Size: b.Size, Unscanned: b.Unscanned}, nil
}

func (f *blobFiles) logger() *slog.Logger {
	if f.log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return f.log
}

func (f *blobFiles) Link(file flowdef.File, instance int64, viewer string) string {
	return f.base + f.signer.Path(filesPrefix, blobs.Blob{Key: file.Key, Name: file.Name, Type: file.Type, Size: file.Size}, instance, viewer)
}

// setupFiles opens the attachment store and mounts the links' handler;
// nil when attachments are off.
func (a *app) setupFiles(ctx context.Context) (*blobFiles, error) {
	c := a.cfg.Attachments
	var store blobs.Store
	switch c.Store {
	case "off":
		return nil, nil
	case "s3":
		s, err := blobs.NewS3(blobs.S3Config{Endpoint: c.S3.Endpoint, Bucket: c.S3.Bucket, Prefix: c.S3.Prefix, Region: c.S3.Region,
			AccessKey: c.S3.AccessKey, SecretKey: c.S3.SecretKey, Insecure: c.S3.Insecure})
		if err != nil {
			return nil, err
		}
		store = s
	default:
		dir := c.Dir
		if dir == "" {
			dir = "./attachments"
			if a.cfg.Database.Driver == "sqlite" && a.cfg.Database.SQLite != "" && !strings.HasPrefix(a.cfg.Database.SQLite, ":memory:") && !strings.HasPrefix(a.cfg.Database.SQLite, "file:") {
				dir = filepath.Join(filepath.Dir(a.cfg.Database.SQLite), "attachments")
			}
		}
		s, err := blobs.NewLocal(dir)
		if err != nil {
			return nil, err
		}
		if n, err := s.Sweep(); err != nil {
			a.log.Warn("sweep unfinished uploads", "err", err)
		} else if n > 0 {
			a.log.Info("removed unfinished uploads of an earlier run", "files", n)
		}
		store = s
	}
	secret := []byte(c.LinkSecret)
	if len(secret) == 0 {
		secret = make([]byte, 32)
		_, _ = rand.Read(secret)
		a.log.Warn("attachments.link_secret is empty: links to attachments stop working when this process ends, and work on this replica only")
	}
	signer, err := blobs.NewSigner(secret, c.LinkTTL, a.clock.Now)
	if err != nil {
		return nil, fmt.Errorf("attachments: %w", err)
	}
	a.mux.Handle("GET "+filesPrefix, &blobs.Handler{Prefix: filesPrefix, Store: store, Signer: signer, Log: a.log,
		CanSee: func(ctx context.Context, viewer string, instance int64) (bool, error) {
			return a.canSee(ctx, viewer, instance)
		}})
	reports, err := dashboard.NewReportSigner(secret, reportLinkTTL, a.clock.Now)
	if err != nil {
		return nil, fmt.Errorf("attachments: report links: %w", err)
	}
	bf := &blobFiles{store: store, signer: signer, reports: reports, maxSize: c.MaxSize, base: strings.TrimSuffix(c.PublicURL, "/"), log: a.log, now: a.clock.Now}
	if l, ok := a.store.(blobs.Ledger); ok {
		// Files never attached to a submitted request are deleted after
		// the retention (runOrphanCleaner).
		bf.ledger = l
		bf.cleaner = &blobs.Cleaner{Store: store, Ledger: l, Retention: c.OrphanRetention, Now: a.clock.Now, Log: a.log}
	}
	if c.Clamd.Address != "" {
		sc, err := clamd.New(clamd.Config{Address: c.Clamd.Address, Timeout: c.Clamd.Timeout})
		if err != nil {
			return nil, fmt.Errorf("attachments.clamd: %w", err)
		}
		bf.scanner, bf.acceptUnscanned = sc, c.Clamd.WhenDown == "accept"
	}
	return bf, nil
}

// canSee is the flow core's rule (flows.CanSee) for a file link's viewer,
// checked when the link is opened.
func (a *app) canSee(ctx context.Context, viewer string, instance int64) (bool, error) {
	u, err := a.store.User(ctx, viewer)
	if errors.Is(err, flows.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("load viewer %s: %w", viewer, err)
	}
	v, err := a.engine.View(ctx, instance)
	if flows.ErrorCode(err) == flows.CodeNotFound {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("load request %d: %w", instance, err)
	}
	return flows.CanSee(u, v.Instance, v.Tasks, v.Events) == nil, nil
}

var _ http.Handler = (*blobs.Handler)(nil)
