package maintenance

import (
	"context"
	"time"

	"github.com/hashicorp/go-hclog"
)

// observation is a value of a watched key as the metadata server answered
// it, each time it changes (the first answer included).
type observation struct {
	key  string
	text string
}

// watcher long-polls one metadata key and reports every change.
type watcher struct {
	client  *metadataClient
	key     string
	wait    time.Duration // timeout_sec of each wait
	backoff backoff
	log     hclog.Logger
}

// run reads the key, then waits for each change of it with the ETag of the
// last answer, so that a change while no request was open (between two
// waits, or while the server was away) is answered at once by the next
// wait. Failures are retried with backoff until ctx is done.
func (w watcher) run(ctx context.Context, out chan<- observation) {
	log := w.log.With("key", w.key)
	var etag string
	failures := 0
	for ctx.Err() == nil {
		began := time.Now()
		v, err := w.client.get(ctx, w.key, etag, w.wait)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			d := w.backoff.delay(failures)
			failures++
			log.Warn("metadata server read failed, retrying", "error", err, "failures", failures, "retry_in", d.Round(time.Millisecond))
			sleep(ctx, d)
			continue
		}
		if failures > 0 {
			log.Info("metadata server answers again", "failures", failures)
			failures = 0
		}
		if v.ETag == etag {
			// A wait that timed out. One that came back early without a
			// change is a server not honouring wait_for_change: slow down
			// rather than spin.
			if time.Since(began) < w.wait/2 {
				d := w.backoff.delay(0)
				log.Warn("metadata server answered a wait early without a change", "retry_in", d.Round(time.Millisecond))
				sleep(ctx, d)
			}
			continue
		}
		etag = v.ETag
		select {
		case out <- observation{key: w.key, text: v.Text}:
		case <-ctx.Done():
			return
		}
	}
}
