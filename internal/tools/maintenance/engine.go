package maintenance

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
)

// engine watches the metadata server and keeps the node's notice and drain
// in step with it.
type engine struct {
	nodeID   string
	timing   timing
	nodes    nodeAPI
	watchers []watcher
	// retry spaces reconciliations after a failed Nomad request.
	retry backoff
	now   func() time.Time
	log   hclog.Logger
}

func newEngine(c config, nodes nodeAPI, md *metadataClient, log hclog.Logger) *engine {
	poll := backoff{base: time.Second, max: 30 * time.Second}
	e := &engine{
		nodeID: c.nodeID, timing: c.timing, nodes: nodes,
		retry: backoff{base: time.Second, max: 30 * time.Second},
		now:   time.Now, log: log.With("node_id", c.nodeID),
	}
	for _, key := range []string{keyMaintenance, keyPreempted} {
		e.watchers = append(e.watchers, watcher{client: md, key: key, wait: c.pollTimeout, backoff: poll, log: log})
	}
	return e
}

// run works until ctx is done, then returns nil. It returns an error only
// when the node does not exist: a wrong -node-id must not look healthy.
func (e *engine) run(ctx context.Context) error {
	if _, err := e.nodes.state(ctx, e.nodeID); errors.Is(err, errNodeNotFound) {
		return fmt.Errorf("-node-id %q: %w", e.nodeID, err)
	} else if err != nil {
		e.log.Warn("cannot read the node yet, watching anyway", "error", err)
	}
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()
	obs := make(chan observation)
	for _, w := range e.watchers {
		wg.Go(func() { w.run(ctx, obs) })
	}

	var host hostState
	var wake <-chan time.Time
	failures := 0
	for {
		select {
		case <-ctx.Done():
			e.log.Info("stopping")
			return nil
		case o := <-obs:
			e.observe(&host, o)
		case <-wake:
		}
		wake = nil
		next, err := e.reconcile(ctx, host)
		switch {
		case err != nil && ctx.Err() == nil:
			d := e.retry.delay(failures)
			failures++
			e.log.Error("cannot update the node, retrying", "error", err, "failures", failures, "retry_in", d.Round(time.Millisecond))
			wake = time.After(d)
		case err == nil && !next.IsZero():
			failures = 0
			wake = time.After(max(next.Sub(e.now()), 0))
		default:
			failures = 0
		}
	}
}

// observe records a new value of a watched key.
func (e *engine) observe(h *hostState, o observation) {
	log := e.log.With("key", o.key, "value", o.text)
	if !validValue(o.key, o.text) {
		// Kept, so that it counts as undecided rather than as the last
		// good value: nothing is cleared on a value nobody understands.
		log.Warn("metadata value not in the GCE documentation, ignoring it until it changes")
	} else {
		log.Info("metadata value")
	}
	switch o.key {
	case keyMaintenance:
		h.maintenance = o.text
		if o.text == maintenanceMigrate {
			log.Info("live migration announced: the VM stays, nothing to drain")
		}
	case keyPreempted:
		h.preempted = o.text
	}
}

// reconcile brings the node in line with the host's state and returns
// when to look again (zero for only on the next change).
func (e *engine) reconcile(ctx context.Context, h hostState) (time.Time, error) {
	if _, _, decided := h.want(); !decided {
		return time.Time{}, nil
	}
	n, err := e.nodes.state(ctx, e.nodeID)
	if err != nil {
		return time.Time{}, err
	}
	if n.noticeErr != nil {
		e.log.Warn("the node's notice is malformed and will be rewritten", "error", n.noticeErr)
	}
	now := e.now()
	s := decide(h, n, now, e.timing)
	e.log.Debug("decided", "reason", s.reason, "mark", s.mark != nil, "clear", s.clear, "drain", s.drain)
	notice := n.notice
	if s.mark != nil {
		notice = *s.mark
		if err := e.nodes.mark(ctx, e.nodeID, notice); err != nil {
			return time.Time{}, err
		}
		e.log.Info("marked the node as leaving", "kind", notice.Kind, "leaving_at", notice.LeavingAt, "noticed_at", notice.NoticedAt)
	}
	if s.clear {
		if err := e.nodes.clear(ctx, e.nodeID); err != nil {
			return time.Time{}, err
		}
		e.log.Info("cleared the node's leaving notice", "reason", s.reason, "was", n.notice.Kind, "drain_started", n.lastDrainFor == noticeID(n.notice))
	}
	if s.drain {
		if err := e.nodes.drain(ctx, e.nodeID, s.deadline, notice); err != nil {
			return time.Time{}, err
		}
		e.log.Info("draining the node", "kind", notice.Kind, "deadline", s.deadline, "leaving_at", notice.LeavingAt, "reason", s.reason)
	}
	if !s.wakeAt.IsZero() {
		e.log.Info("the node keeps serving until its drain starts", "drain_at", s.wakeAt, "leaving_at", notice.LeavingAt)
	}
	if s.mark == nil && !s.clear && !s.drain && s.wakeAt.IsZero() && n.marked {
		e.log.Info("nothing to do", "reason", s.reason, "kind", notice.Kind, "leaving_at", notice.LeavingAt)
	}
	return s.wakeAt, nil
}
