package rollout

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

// caller runs one API call with a deadline per attempt, retrying rate
// limits, server errors and transport failures with bounded exponential
// backoff and full jitter; waits select on ctx and a timer.
type caller struct {
	timeout time.Duration
}

const callAttempts = 5

func (c caller) do(ctx context.Context, fn func(context.Context) error) error {
	var err error
	for n := range callAttempts {
		actx, cancel := context.WithTimeout(ctx, c.timeout)
		err = fn(actx)
		cancel()
		if err == nil || !retryable(ctx, err) || n == callAttempts-1 {
			return err
		}
		ceiling := min(250*time.Millisecond<<n, 8*time.Second)
		timer := time.NewTimer(time.Duration(mrand.Int64N(int64(ceiling))) + ceiling/10)
		select {
		case <-ctx.Done():
			timer.Stop()
			return errors.Join(err, ctx.Err())
		case <-timer.C:
		}
	}
	return err
}

// retryable: rate limits, server errors, transport failures and the
// deadline of one attempt (not of the whole call) are worth another try.
func retryable(ctx context.Context, err error) bool {
	if ctx.Err() != nil {
		return false
	}
	var ae *apierror.APIError
	if errors.As(err, &ae) {
		return retryableStatus(ae.HTTPCode())
	}
	var ue api.UnexpectedResponseError
	if errors.As(err, &ue) {
		return retryableStatus(ue.StatusCode())
	}
	var se statusError
	if errors.As(err, &se) {
		return retryableStatus(int(se))
	}
	var ne net.Error
	return errors.As(err, &ne) || errors.Is(err, context.DeadlineExceeded)
}

func retryableStatus(code int) bool {
	return code == http.StatusTooManyRequests || code == http.StatusRequestTimeout || code >= 500
}

// statusError is an HTTP status answered by a plain HTTP API (RabbitMQ).
type statusError int

func (e statusError) Error() string { return fmt.Sprintf("HTTP %d", int(e)) }

// newRequestID returns a random UUID for a GCE requestId.
func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}
