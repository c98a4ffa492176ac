package objstore

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// S3 is a Store in an S3 bucket (MinIO or any S3 service).
type S3 struct {
	client   *minio.Client
	bucket   string
	prefix   string
	endpoint string
}

func openS3(ctx context.Context, u *url.URL, getenv func(string) string) (*S3, error) {
	bucket := u.Host
	if bucket == "" {
		return nil, fmt.Errorf("%w: s3:// URL needs a bucket: s3://bucket/prefix?endpoint=host:9000", ErrBadURL)
	}
	q := u.Query()
	endpoint := q.Get("endpoint")
	if endpoint == "" {
		return nil, fmt.Errorf("%w: s3:// URL needs ?endpoint=host:port", ErrBadURL)
	}
	secure := true
	if v := q.Get("secure"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return nil, fmt.Errorf("%w: secure=%q: want true or false", ErrBadURL, v)
		}
		secure = b
	}
	ak, sk := getenv("LMX_S3_ACCESS_KEY"), getenv("LMX_S3_SECRET_KEY")
	if ak == "" {
		ak, sk = getenv("AWS_ACCESS_KEY_ID"), getenv("AWS_SECRET_ACCESS_KEY")
	}
	if ak == "" || sk == "" {
		return nil, fmt.Errorf("%w: set LMX_S3_ACCESS_KEY and LMX_S3_SECRET_KEY (or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)", ErrBadURL)
	}
	client, err := minio.New(endpoint, &minio.Options{
		Creds:  credentials.NewStaticV4(ak, sk, ""),
		Secure: secure,
		Region: q.Get("region"),
	})
	if err != nil {
		return nil, fmt.Errorf("s3 client for %s: %w", endpoint, err)
	}
	s := &S3{client: client, bucket: bucket, prefix: strings.Trim(u.Path, "/"), endpoint: endpoint}
	if s.prefix != "" {
		s.prefix += "/"
	}
	if err := s.ensureBucket(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// ensureBucket creates the bucket when it is missing.
func (s *S3) ensureBucket(ctx context.Context) error {
	ok, err := s.client.BucketExists(ctx, s.bucket)
	if err != nil {
		return fmt.Errorf("s3 bucket %q at %s: %w", s.bucket, s.endpoint, err)
	}
	if ok {
		return nil
	}
	if err := s.client.MakeBucket(ctx, s.bucket, minio.MakeBucketOptions{}); err != nil {
		// Another control node may have made it meanwhile.
		if ok, e2 := s.client.BucketExists(ctx, s.bucket); e2 == nil && ok {
			return nil
		}
		return fmt.Errorf("create s3 bucket %q: %w", s.bucket, err)
	}
	return nil
}

// Put uploads an object with its real size: minio-go would otherwise buffer
// a large multipart part in memory for an upload of unknown size.
func (s *S3) Put(ctx context.Context, key string, data []byte) error {
	if err := checkKey(key); err != nil {
		return err
	}
	_, err := s.client.PutObject(ctx, s.bucket, s.prefix+key, bytes.NewReader(data), int64(len(data)),
		minio.PutObjectOptions{ContentType: "video/mp2t", DisableMultipart: len(data) < 64<<20})
	return err
}

// Get downloads an object.
func (s *S3) Get(ctx context.Context, key string) ([]byte, error) {
	if err := checkKey(key); err != nil {
		return nil, err
	}
	obj, err := s.client.GetObject(ctx, s.bucket, s.prefix+key, minio.GetObjectOptions{})
	if err != nil {
		return nil, s.mapErr(key, err)
	}
	defer obj.Close()
	b, err := io.ReadAll(obj)
	if err != nil {
		return nil, s.mapErr(key, err)
	}
	return b, nil
}

// Delete removes an object.
func (s *S3) Delete(ctx context.Context, key string) error {
	if err := checkKey(key); err != nil {
		return err
	}
	return s.client.RemoveObject(ctx, s.bucket, s.prefix+key, minio.RemoveObjectOptions{})
}

// List returns the keys under prefix.
func (s *S3) List(ctx context.Context, prefix string) ([]string, error) {
	var keys []string
	for obj := range s.client.ListObjects(ctx, s.bucket, minio.ListObjectsOptions{Prefix: s.prefix + prefix, Recursive: true}) {
		if obj.Err != nil {
			return nil, obj.Err
		}
		keys = append(keys, strings.TrimPrefix(obj.Key, s.prefix))
	}
	return keys, nil
}

func (s *S3) mapErr(key string, err error) error {
	if minio.ToErrorResponse(err).Code == "NoSuchKey" {
		return fmt.Errorf("%w: %s", ErrNotExist, key)
	}
	return err
}

// String describes the store without credentials.
func (s *S3) String() string { return "s3://" + s.bucket + "/" + s.prefix + " at " + s.endpoint }
