package pluginkit

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"time"

	"github.com/googleapis/gax-go/v2/apierror"
	"github.com/hashicorp/nomad/api"
)

// Backoff retries calls to the GCE, Nomad and other HTTP APIs: a bounded
// exponential backoff with full jitter, waits that select on ctx and a
// timer, and optionally a deadline per attempt.
type Backoff struct {
	// Attempts is the total number of tries (at least 1).
	Attempts int
	// Initial is the largest first pause; it doubles per attempt up to Max.
	Initial time.Duration
	Max     time.Duration
	// AttemptTimeout, when set, bounds each try; a try that runs out of it
	// is retried (the caller's own deadline is not).
	AttemptTimeout time.Duration
}

// Pause returns the jittered pause before try n+1 (n counts from 0). Full
// jitter spreads the retries of concurrent callers (one per zone and node)
// so they do not hit a rate-limited API in lockstep.
func (b Backoff) Pause(n int) time.Duration {
	ceiling := b.Initial << min(n, 20)
	if ceiling > b.Max || ceiling <= 0 {
		ceiling = b.Max
	}
	if ceiling <= 0 {
		return 0
	}
	return time.Duration(mrand.Int64N(int64(ceiling))) + ceiling/10
}

// Do runs fn until it succeeds, fails for good (Retryable), the attempts
// run out or ctx ends.
func (b Backoff) Do(ctx context.Context, fn func(context.Context) error) error {
	attempts := max(b.Attempts, 1)
	var err error
	for n := 0; n < attempts; n++ {
		err = b.attempt(ctx, fn)
		if err == nil || !Retryable(err) || n == attempts-1 {
			return err
		}
		if ctx.Err() != nil {
			return errors.Join(err, ctx.Err())
		}
		timer := time.NewTimer(b.Pause(n))
		select {
		case <-ctx.Done():
			timer.Stop()
			return errors.Join(err, ctx.Err())
		case <-timer.C:
		}
	}
	return err
}

func (b Backoff) attempt(ctx context.Context, fn func(context.Context) error) error {
	if b.AttemptTimeout <= 0 {
		return fn(ctx)
	}
	actx, cancel := context.WithTimeout(ctx, b.AttemptTimeout)
	defer cancel()
	return fn(actx)
}

// StatusError is an HTTP status answered by a plain HTTP API (RabbitMQ's
// management API, for example), classified like the SDKs' errors.
type StatusError int

func (e StatusError) Error() string { return fmt.Sprintf("HTTP %d", int(e)) }

// Permanent marks err as final whatever it wraps (a failed GCE operation
// that wraps a 503, say).
func Permanent(err error) error { return permanentError{err} }

type permanentError struct{ err error }

func (p permanentError) Error() string { return p.err.Error() }
func (p permanentError) Unwrap() error { return p.err }

// Retryable classifies errors at an API boundary: rate limits, server
// errors, transport failures and the deadline of one attempt are worth
// another try; everything else (not found, bad request, permission denied,
// a Permanent error, a cancelled call) is not.
func Retryable(err error) bool {
	var perm permanentError
	if errors.As(err, &perm) || errors.Is(err, context.Canceled) {
		return false
	}
	var ae *apierror.APIError
	if errors.As(err, &ae) {
		return RetryableStatus(ae.HTTPCode())
	}
	var ue api.UnexpectedResponseError
	if errors.As(err, &ue) {
		return RetryableStatus(ue.StatusCode())
	}
	var se StatusError
	if errors.As(err, &se) {
		return RetryableStatus(int(se))
	}
	var ne net.Error
	if errors.As(err, &ne) {
		return true
	}
	return errors.Is(err, context.DeadlineExceeded)
}

// RetryableStatus: 429, 408 and 5xx.
func RetryableStatus(code int) bool {
	return code == http.StatusTooManyRequests || code == http.StatusRequestTimeout || code >= 500
}

// NewRequestID returns a random UUID for a GCE requestId: the same ID is
// reused for every retry of one request, which GCE then runs only once.
func NewRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}
