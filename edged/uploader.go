package edged

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/lmx-video/lmx/broker"
	"github.com/lmx-video/lmx/internal/secret"
)

// Upload errors the upload loops tell apart.
var (
	// errRejected means the control node refused a segment for good (a 4xx
	// other than an authentication failure); retrying the same upload
	// would not help.
	errRejected = errors.New("control node rejected the segment")
	// errAuth means the control node refused the edge's credential (401,
	// 403): revoked, or not yet known. The segment is kept and retried,
	// like after a network failure, so that restoring the edge's access
	// loses no recorded second.
	errAuth = errors.New("control node refused this edge's credential")
)

// uploader sends segments to the control node's ingest endpoint over HTTP.
type uploader struct {
	base       string
	edge       string
	credential string
	boot       string
	hc         *http.Client
	logger     *slog.Logger
	// refused is true while the control node refuses the credential, so
	// that it is logged once when it starts and once when it ends, however
	// many loops retry meanwhile.
	refused atomic.Bool
}

// newUploader uploads to base as edge, presenting credential (if any) and
// using tlsCfg for an https base (nil: the system's roots).
func newUploader(base, edge, credential, boot string, tlsCfg *tls.Config, logger *slog.Logger) *uploader {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 8
	tr.TLSClientConfig = tlsCfg
	return &uploader{
		base:       strings.TrimSuffix(base, "/"),
		edge:       edge,
		credential: credential,
		boot:       boot,
		hc:         &http.Client{Transport: tr, Timeout: 30 * time.Second},
		logger:     logger,
	}
}

// authFailed notes that the control node refused the credential and
// returns the errAuth to hand the loops.
func (u *uploader) authFailed(resp *http.Response, msg []byte) error {
	if !u.refused.Swap(true) {
		cred := "none"
		if u.credential != "" {
			cred = secret.Redact(u.credential)
		}
		u.logger.Warn("control node refused this edge's credential (revoked?); keeping segments and retrying",
			"status", resp.Status, "reason", serverMessage(msg), "credential", cred)
	}
	return fmt.Errorf("%w: %s: %s", errAuth, resp.Status, bytes.TrimSpace(msg))
}

// authOK notes that the control node took a request with the credential.
func (u *uploader) authOK() {
	if u.refused.Swap(false) {
		u.logger.Info("control node accepts this edge's credential again; uploads resumed")
	}
}

// isAuthFailure reports whether status is the control node refusing the
// credential.
func isAuthFailure(status int) bool {
	return status == http.StatusUnauthorized || status == http.StatusForbidden
}

func (u *uploader) request(ctx context.Context, method, path string, body []byte) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, method, u.base+path, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set(broker.HeaderEdge, u.edge)
	req.Header.Set(broker.HeaderBoot, u.boot)
	if u.credential != "" {
		req.Header.Set("Authorization", "Bearer "+u.credential)
	}
	return req, nil
}

// upload sends one segment of source, for the live window and/or the
// recordings listed, and returns what the control node did with it.
//
// The segment carries Lmx-Discontinuity only for a break in its media
// (seg.Discontinuity: ffmpeg restarted, a file was skipped, the pushed
// playlist said EXT-X-DISCONTINUITY), which is true for the live window and
// for recordings alike. How the live upload got to this segment (skipping
// ahead after an outage, starting to stream, passing a rejected segment) is
// never sent: one upload serves both, and the recordings get every segment
// in order whatever live skips. The control node sees the live jump itself,
// as an edge sequence number that does not follow the previous one.
//
// An fMP4 segment goes after its init segment: uploaded first when the
// control node has not taken it yet, and again when the control node
// answers that it lacks it (it restarted), so the control node never
// lists a segment whose init segment it does not hold.
func (u *uploader) upload(ctx context.Context, source string, seg *segment, live bool, recordings []string) (broker.IngestReply, error) {
	for try := 0; ; try++ {
		if seg.Init != nil && !seg.Init.sent.Load() {
			if err := u.uploadInit(ctx, source, seg.Init); err != nil {
				return broker.IngestReply{}, err
			}
		}
		out, err := u.uploadSegment(ctx, source, seg, live, recordings)
		if errors.Is(err, errInitLost) && try == 0 {
			seg.Init.sent.Store(false)
			continue
		}
		return out, err
	}
}

// errInitLost is a segment upload answered broker.StatusInitMissing.
var errInitLost = errors.New("the control node does not hold the segment's init segment")

// uploadSegment is one PUT of a segment (see upload).
func (u *uploader) uploadSegment(ctx context.Context, source string, seg *segment, live bool, recordings []string) (broker.IngestReply, error) {
	var out broker.IngestReply
	req, err := u.request(ctx, http.MethodPut, broker.IngestPath(url.PathEscape(source)), seg.Data)
	if err != nil {
		return out, err
	}
	req.Header.Set("Content-Type", "video/mp2t")
	if seg.Init != nil {
		req.Header.Set("Content-Type", "video/iso.segment")
		req.Header.Set(broker.HeaderInit, seg.Init.ID)
	}
	req.Header.Set(broker.HeaderSeq, strconv.FormatUint(seg.Seq, 10))
	req.Header.Set(broker.HeaderDuration, strconv.FormatFloat(seg.Duration, 'f', 6, 64))
	req.Header.Set(broker.HeaderStart, seg.Start.UTC().Format(time.RFC3339Nano))
	req.Header.Set(broker.HeaderSegmentName, seg.Name)
	purpose := "record"
	if live {
		purpose = "live"
		if len(recordings) > 0 {
			purpose = "live,record"
		}
	}
	req.Header.Set(broker.HeaderPurpose, purpose)
	if len(recordings) > 0 {
		req.Header.Set(broker.HeaderRecordings, strings.Join(recordings, ","))
	}
	if seg.Discontinuity {
		req.Header.Set(broker.HeaderDiscontinuity, "1")
	}
	if seg.Rendition != "" {
		req.Header.Set(broker.HeaderRendition, seg.Rendition)
		req.Header.Set(broker.HeaderRenditionSeq, strconv.FormatUint(seg.RSeq, 10))
		if seg.Variant != "" {
			req.Header.Set(broker.HeaderVariant, seg.Variant)
		}
	}
	resp, err := u.hc.Do(req)
	if err != nil {
		return out, err
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	switch {
	case resp.StatusCode/100 == 2:
		u.authOK()
		if err := json.Unmarshal(msg, &out); err != nil {
			return out, fmt.Errorf("upload: unreadable answer: %v", err)
		}
		return out, nil
	case isAuthFailure(resp.StatusCode):
		return out, u.authFailed(resp, msg)
	case resp.StatusCode == broker.StatusInitMissing && seg.Init != nil:
		// Not a rejection: the init segment goes again, then the segment.
		return out, fmt.Errorf("%w: %s: %s", errInitLost, resp.Status, bytes.TrimSpace(msg))
	case resp.StatusCode/100 == 4 && resp.StatusCode != http.StatusTooManyRequests && resp.StatusCode != http.StatusRequestTimeout:
		return out, fmt.Errorf("%w: %s: %s", errRejected, resp.Status, bytes.TrimSpace(msg))
	default:
		return out, fmt.Errorf("upload: %s: %s", resp.Status, bytes.TrimSpace(msg))
	}
}

// uploadInit sends source's init segment iseg and notes that the control
// node holds it. A refusal is handled as a segment's would be: the
// segment that needs it is then not uploaded either.
func (u *uploader) uploadInit(ctx context.Context, source string, iseg *initSegment) error {
	req, err := u.request(ctx, http.MethodPut, broker.InitPath(url.PathEscape(source)), iseg.Data)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "video/mp4")
	req.Header.Set(broker.HeaderInit, iseg.ID)
	req.Header.Set(broker.HeaderInitName, iseg.Name)
	resp, err := u.hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	switch {
	case resp.StatusCode/100 == 2:
		u.authOK()
		iseg.sent.Store(true)
		u.logger.Debug("init segment uploaded", "source", source, "init", iseg.ID, "bytes", len(iseg.Data))
		return nil
	case isAuthFailure(resp.StatusCode):
		return u.authFailed(resp, msg)
	case resp.StatusCode/100 == 4 && resp.StatusCode != http.StatusTooManyRequests && resp.StatusCode != http.StatusRequestTimeout:
		return fmt.Errorf("%w: init segment: %s: %s", errRejected, resp.Status, bytes.TrimSpace(msg))
	default:
		return fmt.Errorf("init upload: %s: %s", resp.Status, bytes.TrimSpace(msg))
	}
}

// register asks the control node whether it knows (or now registers)
// source. When it does not, refusal is what it said (that the name is not
// registered, or was removed and how to bring it back), for ffmpeg's
// answer and the edge's log.
//
// A 409 (the source is fed by other edges) is a refusal too, its status
// in conflict so that ffmpeg's answer says the same.
func (u *uploader) register(ctx context.Context, source string) (known bool, refusal string, conflict bool, err error) {
	req, err := u.request(ctx, http.MethodPost, broker.IngestPath(url.PathEscape(source))+"/register", nil)
	if err != nil {
		return false, "", false, err
	}
	resp, err := u.hc.Do(req)
	if err != nil {
		return false, "", false, err
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	switch {
	case resp.StatusCode/100 == 2:
		u.authOK()
		return true, "", false, nil
	case isAuthFailure(resp.StatusCode):
		return false, "", false, u.authFailed(resp, msg)
	case resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusConflict:
		u.authOK()
		return false, refusalMessage(msg), resp.StatusCode == http.StatusConflict, nil
	default:
		return false, "", false, fmt.Errorf("register: %s", resp.Status)
	}
}
