package plugin

import (
	"context"
	"errors"
	"math/rand/v2"
	"net"
	"net/http"
	"time"

	"github.com/googleapis/gax-go/v2/apierror"
	"github.com/hashicorp/nomad/api"
)

// backoff is a bounded exponential backoff with full jitter.
type backoff struct {
	// Attempts is the total number of tries (at least 1).
	Attempts int
	// Initial is the largest first pause; it doubles per attempt up to Max.
	Initial time.Duration
	Max     time.Duration
}

// defaultBackoff suits the GCE and Nomad APIs: eight tries span roughly half
// a minute in the worst case.
var defaultBackoff = backoff{Attempts: defaultRetryAttempts, Initial: 250 * time.Millisecond, Max: 8 * time.Second}

// pause returns the jittered pause before try n+1 (n counts from 0).
func (b backoff) pause(n int) time.Duration {
	ceiling := b.Initial << min(n, 20)
	if ceiling > b.Max || ceiling <= 0 {
		ceiling = b.Max
	}
	if ceiling <= 0 {
		return 0
	}
	// Full jitter: spreads the retries of concurrent callers (one per zone
	// and node) so they do not hit a rate-limited API in lockstep.
	return time.Duration(rand.Int64N(int64(ceiling))) + ceiling/10
}

// do runs fn until it succeeds, fails permanently, the attempts run out or
// ctx ends. Waits select on ctx and a timer.
func (b backoff) do(ctx context.Context, fn func(context.Context) error) error {
	attempts := max(b.Attempts, 1)
	var err error
	for n := 0; n < attempts; n++ {
		if err = fn(ctx); err == nil || !retryable(err) {
			return err
		}
		if n == attempts-1 {
			break
		}
		timer := time.NewTimer(b.pause(n))
		select {
		case <-ctx.Done():
			timer.Stop()
			return errors.Join(err, ctx.Err())
		case <-timer.C:
		}
	}
	return err
}

// retryable classifies errors at the API boundary: rate limits, server
// errors and transport failures are worth another try; everything else
// (not found, bad request, permission denied, a failed operation) is not.
func retryable(err error) bool {
	var perm permanent
	if errors.As(err, &perm) || errors.Is(err, context.Canceled) {
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
	var ne net.Error
	if errors.As(err, &ne) {
		return true
	}
	// A deadline of one attempt (not of the whole call, which do checks
	// first) is a timeout worth retrying.
	return errors.Is(err, context.DeadlineExceeded)
}

func retryableStatus(code int) bool {
	return code == http.StatusTooManyRequests || code == http.StatusRequestTimeout || code >= 500
}

// permanent marks an error that must not be retried whatever it wraps.
type permanent struct{ err error }

func (p permanent) Error() string { return p.err.Error() }
func (p permanent) Unwrap() error { return p.err }
