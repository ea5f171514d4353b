package plugin

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/hashicorp/nomad/api"
)

// The writer lock: one process at a time changes a policy's MIGs and nodes.
//
// Within one process policyState.scaling keeps a policy's Status and Scale
// apart. Across processes nothing did, and two agents can evaluate the same
// policy at once: agent v0.5.0 keeps evaluating after a network split heals
// although it lost its HA lock (test/e2e TestHASplitLeader...,
// deploy/README.md), and a second agent started without HA does the same.
// Their targets then drained and deleted the same node, or one finished as
// "interrupted" the scale-in the other was still running.
//
// So every Status and Scale first takes a Nomad Variable lock, the same
// mechanism as the agent's own HA lock, at writerLockPath, keeps it renewed
// while it works and releases it when done. A Status that cannot take it
// changes nothing and reports not ready; a Scale that cannot take it fails
// without changing anything. Nomad frees a lock its holder stopped renewing
// (a crash, a split) writerLockTTL after the last renewal and then refuses
// it to everyone for writerLockDelay. The holder stops changing anything
// (its context is canceled) once writerLockTTL - writerRenewEvery has gone
// by since it sent its last successful renewal, so its last change comes
// at least writerRenewEvery + writerLockDelay before anyone else's first.
const (
	// Nomad refuses a lock TTL or delay under 10s. A crashed holder blocks
	// the policy for at most TTL + delay (25s), no longer than the agent's
	// own failover with its smallest lock_ttl and lock_delay (10s + 10s)
	// plus an acquisition retry.
	writerLockTTL    = 15 * time.Second
	writerLockDelay  = 10 * time.Second
	writerRenewEvery = writerLockTTL / 3
	// writerReleaseTimeout bounds the release, which runs after the call,
	// whose own deadline may have passed.
	writerReleaseTimeout = 5 * time.Second
	// writerDeniedRetry is how long a token denied the lock's path (403),
	// or a Nomad without Variable locks, works without the lock before
	// asking again.
	writerDeniedRetry = lastEventRetry
)

// writerLockPath is the Nomad Variable of a policy's writer lock. The ACL
// policy in deploy/ grants it with the last_event Variable's
// (nomad-autoscaler/target-gce-gpu/*).
func writerLockPath(policy string) string { return lastEventPath(policy) + "/writer" }

var (
	// errWriterBusy: another process holds the policy's writer lock.
	errWriterBusy = errors.New("held by another process: another autoscaler agent is changing this policy's MIGs")
	// errWriterLost: the lock ran out or was taken over while held.
	errWriterLost = errors.New("writer lock lost")
	// errWriterDenied: the token may not write the lock's path.
	errWriterDenied = errors.New("permission denied")
	// errWriterUnsupported: this Nomad has no Variable locks (before 1.7:
	// a 404, or a plain write that answers without a lock ID).
	errWriterUnsupported = errors.New("this Nomad has no Variable locks (Nomad 1.7 or later has)")
)

// writerLocks takes, renews and releases Nomad Variable locks.
type writerLocks interface {
	// Acquire locks path; errWriterBusy when it is held or in its lock
	// delay, errWriterDenied when the ACL refuses the path,
	// errWriterUnsupported when Nomad cannot lock.
	Acquire(ctx context.Context, path string) (id string, err error)
	// Renew restarts the TTL; errWriterLost when id no longer holds it.
	Renew(ctx context.Context, path, id string) error
	// Release unlocks at once; errWriterLost when id no longer holds it.
	Release(ctx context.Context, path, id string) error
}

// nomadWriterLocks implements writerLocks with the Nomad API client.
type nomadWriterLocks struct {
	client *api.Client
	retry  backoff
}

var _ writerLocks = nomadWriterLocks{}

func (l nomadWriterLocks) Acquire(ctx context.Context, path string) (string, error) {
	var out *api.Variable
	err := l.retry.Do(ctx, func(ctx context.Context) error {
		var err error
		out, _, err = l.client.Variables().AcquireLock(&api.Variable{Path: path, Lock: &api.VariableLock{
			TTL: writerLockTTL.String(), LockDelay: writerLockDelay.String(),
		}}, (&api.WriteOptions{}).WithContext(ctx))
		return err
	})
	if err = lockError(err, errWriterBusy); err != nil {
		return "", fmt.Errorf("lock Nomad variable %s: %w", path, err)
	}
	if out.LockID() == "" {
		return "", fmt.Errorf("lock Nomad variable %s: %w: it answered without a lock ID", path, errWriterUnsupported)
	}
	return out.LockID(), nil
}

func (l nomadWriterLocks) Renew(ctx context.Context, path, id string) error {
	return l.held(ctx, "renew", path, id, func(v *api.Variable, w *api.WriteOptions) error {
		_, _, err := l.client.Variables().RenewLock(v, w)
		return err
	})
}

func (l nomadWriterLocks) Release(ctx context.Context, path, id string) error {
	return l.held(ctx, "release", path, id, func(v *api.Variable, w *api.WriteOptions) error {
		_, _, err := l.client.Variables().ReleaseLock(v, w)
		return err
	})
}

// held runs one retried operation (op names it in errors) on the lock
// that id holds; a 409 means id no longer holds it.
func (l nomadWriterLocks) held(ctx context.Context, op, path, id string, call func(*api.Variable, *api.WriteOptions) error) error {
	err := l.retry.Do(ctx, func(ctx context.Context) error {
		return call(&api.Variable{Path: path, Lock: &api.VariableLock{ID: id}}, (&api.WriteOptions{}).WithContext(ctx))
	})
	if err = lockError(err, errWriterLost); err != nil {
		return fmt.Errorf("%s lock of Nomad variable %s: %w", op, path, err)
	}
	return nil
}

// lockError names what a 409 (conflict) and a 403 mean for a lock.
func lockError(err, conflict error) error {
	var ue api.UnexpectedResponseError
	if errors.As(err, &ue) {
		switch ue.StatusCode() {
		case http.StatusConflict:
			return conflict
		case http.StatusForbidden:
			return fmt.Errorf("%w (%w)", errWriterDenied, err)
		case http.StatusNotFound:
			return fmt.Errorf("%w (%w)", errWriterUnsupported, err)
		}
	}
	return err
}

// holdWriter takes the policy's writer lock for one call and keeps it
// renewed. ctx is the call's context, canceled with cause errWriterLost
// when the lock is lost; release (always set) ends the renewals and frees
// the lock. A token denied the lock's path works without it, as before
// the lock existed, and is warned about every writerDeniedRetry; so does
// a Nomad without Variable locks.
func (r *run) holdWriter(ctx context.Context) (_ context.Context, release func(), err error) {
	release = func() {}
	now := r.p.now()
	r.st.mu.Lock()
	denied := !r.st.writerDenied.IsZero() && now.Sub(r.st.writerDenied) < writerDeniedRetry
	r.st.mu.Unlock()
	if denied {
		return ctx, release, nil
	}
	path := writerLockPath(r.cfg.policyKey)
	sent := time.Now()
	// A third of the call's time at most, so that an unreachable Nomad
	// still leaves the observation time to report what it can.
	actx := ctx
	if dl, ok := ctx.Deadline(); ok {
		var cancel context.CancelFunc
		actx, cancel = context.WithTimeout(ctx, time.Until(dl)/3)
		defer cancel()
	}
	// The last call's release may still run: Nomad would refuse this
	// process's new acquisition while its old one holds the lock.
	r.st.mu.Lock()
	prev := r.st.releasing
	r.st.mu.Unlock()
	if prev != nil {
		select {
		case <-prev:
		case <-actx.Done():
			return ctx, release, fmt.Errorf("wait for the previous release of the writer lock: %w", context.Cause(actx))
		}
	}
	id, err := r.locks.Acquire(actx, path)
	if errors.Is(err, errWriterDenied) || errors.Is(err, errWriterUnsupported) {
		r.st.mu.Lock()
		r.st.writerDenied = now
		r.st.mu.Unlock()
		r.log.Warn("working without the writer lock: two agents evaluating this policy at once "+
			"could change its MIGs at once", "error", err)
		return ctx, release, nil
	}
	if err != nil {
		return ctx, release, err
	}
	lctx, cancel := context.WithCancelCause(ctx)
	stop, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		r.keepWriter(lctx, cancel, stop, path, id, sent)
	}()
	return lctx, func() {
		close(stop)
		<-done
		lost := context.Cause(lctx)
		cancel(nil)
		if errors.Is(lost, errWriterLost) {
			return
		}
		// Released after the call answers: a slow Nomad must not push a
		// Status past the agent's deadline (a first Status that misses
		// it leaves agent v0.5.0 without the policy's handler).
		released := make(chan struct{})
		r.st.mu.Lock()
		r.st.releasing = released
		r.st.mu.Unlock()
		go func() {
			defer close(released)
			rctx, c := context.WithTimeout(context.WithoutCancel(ctx), writerReleaseTimeout)
			defer c()
			if err := r.locks.Release(rctx, path, id); err != nil {
				r.log.Warn("cannot release the writer lock; Nomad frees it after its TTL and lock delay",
					"ttl", writerLockTTL, "lock_delay", writerLockDelay, "error", err)
			}
		}()
	}, nil
}

// keepWriter renews the lock every writerRenewEvery until stop, and
// cancels ctx once the lock is lost or could not be renewed in time.
func (r *run) keepWriter(ctx context.Context, cancel context.CancelCauseFunc, stop <-chan struct{}, path, id string, sent time.Time) {
	fence := sent.Add(writerLockTTL - writerRenewEvery)
	tick := time.NewTicker(writerRenewEvery)
	defer tick.Stop()
	for {
		select {
		case <-stop:
			return
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		at := time.Now()
		rctx, c := context.WithTimeout(ctx, writerRenewEvery)
		err := r.locks.Renew(rctx, path, id)
		c()
		switch {
		case err == nil:
			fence = at.Add(writerLockTTL - writerRenewEvery)
			continue
		case errors.Is(err, errWriterLost):
			r.log.Error("stopping: the writer lock ran out or was taken over", "path", path)
			cancel(err)
			return
		}
		if !time.Now().Before(fence) {
			err = fmt.Errorf("%w: %s not renewed since %s: %w", errWriterLost, path, fence.Add(writerRenewEvery-writerLockTTL).Format(time.RFC3339), err)
			r.log.Error("stopping: the writer lock could not be renewed in time", "error", err)
			cancel(err)
			return
		}
		r.log.Warn("cannot renew the writer lock; retrying", "error", err)
	}
}
