package maintenance

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// The metadata keys the daemon watches, under /computeMetadata/v1/instance/.
const (
	keyMaintenance = "maintenance-event"
	keyPreempted   = "preempted"
)

// maxValueBytes bounds what is read of an answer: the values watched here
// are a few bytes, and anything longer is not a metadata value.
const maxValueBytes = 4 << 10

// errMalformed marks an answer that is not a metadata value (no ETag, too
// long, or a value the key cannot have).
var errMalformed = errors.New("malformed answer")

// metaValue is one answer of the metadata server.
type metaValue struct {
	Text string
	ETag string
}

// metadataClient reads the GCE metadata server.
type metadataClient struct {
	base string // scheme and host, e.g. http://169.254.169.254
	hc   *http.Client
	// slack is added to a wait's timeout_sec for the request's deadline:
	// the server answers at timeout_sec, the slack covers the round trip.
	slack time.Duration
	// getTimeout bounds a request that does not wait for a change.
	getTimeout time.Duration
}

func newMetadataClient(base string) *metadataClient {
	return &metadataClient{
		base: strings.TrimRight(base, "/"),
		// No client-wide Timeout: each request has its own deadline, longer
		// for a wait than for a plain read.
		hc:         &http.Client{Transport: &http.Transport{Proxy: nil, MaxIdleConnsPerHost: 2}},
		slack:      10 * time.Second,
		getTimeout: 10 * time.Second,
	}
}

// get reads instance/<key>. With an empty lastETag it answers at once;
// otherwise it waits until the value's ETag differs from lastETag or
// timeout passes (then the same value and ETag come back).
func (c *metadataClient) get(ctx context.Context, key, lastETag string, timeout time.Duration) (metaValue, error) {
	u := c.base + "/computeMetadata/v1/instance/" + key
	deadline := c.getTimeout
	if lastETag != "" {
		secs := max(int(timeout/time.Second), 1)
		u += "?" + url.Values{
			"wait_for_change": {"true"},
			"last_etag":       {lastETag},
			"timeout_sec":     {strconv.Itoa(secs)},
		}.Encode()
		deadline = time.Duration(secs)*time.Second + c.slack
	}
	ctx, cancel := context.WithTimeout(ctx, deadline)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return metaValue{}, fmt.Errorf("metadata %s: %w", key, err)
	}
	req.Header.Set("Metadata-Flavor", "Google")
	resp, err := c.hc.Do(req)
	if err != nil {
		return metaValue{}, fmt.Errorf("metadata %s: %w", key, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxValueBytes+1))
	if err != nil {
		return metaValue{}, fmt.Errorf("metadata %s: read answer: %w", key, err)
	}
	if resp.StatusCode != http.StatusOK {
		return metaValue{}, fmt.Errorf("metadata %s: HTTP %d: %s", key, resp.StatusCode, firstLine(body))
	}
	v := metaValue{Text: strings.TrimSpace(string(body)), ETag: resp.Header.Get("ETag")}
	switch {
	case len(body) > maxValueBytes:
		return metaValue{}, fmt.Errorf("metadata %s: %w: more than %d bytes", key, errMalformed, maxValueBytes)
	case v.ETag == "":
		// Without an ETag the next wait could not say which value it has
		// seen, and a change between two requests would be missed.
		return metaValue{}, fmt.Errorf("metadata %s: %w: no ETag header", key, errMalformed)
	}
	return v, nil
}

// firstLine is the start of an error body, short enough for a log line.
func firstLine(b []byte) string {
	s, _, _ := strings.Cut(strings.TrimSpace(string(b)), "\n")
	if len(s) > 120 {
		s = s[:120] + "..."
	}
	return strconv.Quote(s)
}
