package blobs

import (
	"context"
	"fmt"
	"io"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// S3Config says where an S3-compatible store is (AWS S3, MinIO, Ceph,
// OSS, COS...).
type S3Config struct {
	Endpoint  string // host[:port], no scheme
	Bucket    string
	Prefix    string // put before every key, e.g. "flowbot/"
	Region    string
	AccessKey string
	SecretKey string
	Insecure  bool // plain HTTP (a local MinIO)
}

// S3 keeps blobs as objects of one bucket.
type S3 struct {
	client *minio.Client
	bucket string
	prefix string
}

var _ Store = (*S3)(nil)

// NewS3 returns a Store on cfg's bucket (which must exist).
func NewS3(cfg S3Config) (*S3, error) {
	if cfg.Endpoint == "" || cfg.Bucket == "" {
		return nil, fmt.Errorf("blobs: s3 needs an endpoint and a bucket")
	}
	c, err := minio.New(cfg.Endpoint, &minio.Options{
		Creds:  credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, ""),
		Secure: !cfg.Insecure,
		Region: cfg.Region,
	})
	if err != nil {
		return nil, fmt.Errorf("blobs: s3 client for %s: %w", cfg.Endpoint, err)
	}
	return &S3{client: c, bucket: cfg.Bucket, prefix: cfg.Prefix}, nil
}

// Put uploads r. S3 shows an object only once its upload completed; an
// upload cut off (read error, cancelled context, killed process) leaves
// no object (a multipart upload left unfinished is removed by the
// bucket's lifecycle rule for incomplete uploads).
func (s *S3) Put(ctx context.Context, key string, r io.Reader, size int64) error {
	if err := checkKey(key); err != nil {
		return err
	}
	if _, err := s.client.PutObject(ctx, s.bucket, s.prefix+key, r, size, minio.PutObjectOptions{ContentType: "application/octet-stream"}); err != nil {
		return fmt.Errorf("blobs: s3 put %s: %w", key, err)
	}
	return nil
}

// Open reads the object of key.
func (s *S3) Open(ctx context.Context, key string) (io.ReadCloser, error) {
	if err := checkKey(key); err != nil {
		return nil, err
	}
	// GetObject is lazy: Stat finds a missing object now.
	if _, err := s.client.StatObject(ctx, s.bucket, s.prefix+key, minio.StatObjectOptions{}); err != nil {
		if minio.ToErrorResponse(err).StatusCode == 404 {
			return nil, fmt.Errorf("%w: %s", ErrNotFound, key)
		}
		return nil, fmt.Errorf("blobs: s3 stat %s: %w", key, err)
	}
	obj, err := s.client.GetObject(ctx, s.bucket, s.prefix+key, minio.GetObjectOptions{})
	if err != nil {
		return nil, fmt.Errorf("blobs: s3 get %s: %w", key, err)
	}
	return obj, nil
}

// Delete removes the object of key.
func (s *S3) Delete(ctx context.Context, key string) error {
	if err := checkKey(key); err != nil {
		return err
	}
	if err := s.client.RemoveObject(ctx, s.bucket, s.prefix+key, minio.RemoveObjectOptions{}); err != nil {
		return fmt.Errorf("blobs: s3 delete %s: %w", key, err)
	}
	return nil
}
