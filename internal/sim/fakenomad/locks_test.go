package fakenomad_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/hashicorp/nomad/api"
	"github.com/shoenig/test/must"

	"github.com/fleetslope/nomad-gpu-autoscaler/internal/sim/fakehttp"
	"github.com/fleetslope/nomad-gpu-autoscaler/internal/sim/fakenomad"
)

const lockPath = "nomad-autoscaler/lock"

// agentLock builds the lock handle exactly as nomad-autoscaler v0.5.0's
// `agent` command does for its high_availability block (command/agent.go).
func agentLock(t *testing.T, client *api.Client, ttl, delay time.Duration) *api.Locks {
	t.Helper()
	l, err := client.Locks(api.WriteOptions{Namespace: "default"}, api.Variable{
		Path: lockPath,
		Lock: &api.VariableLock{TTL: ttl.String(), LockDelay: delay.String()},
	})
	must.NoError(t, err)
	return l
}

func lockCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// twoAgents starts a fake with a manual clock and two clients, as two
// agents would hold them.
func twoAgents(t *testing.T) (*fakenomad.Server, *fakehttp.ManualClock, *api.Client, *api.Client) {
	t.Helper()
	clock := fakehttp.NewManualClock(time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC))
	fake, a, url := start(t, fakenomad.Options{Now: clock.Now})
	b, err := api.NewClient(&api.Config{Address: url})
	must.NoError(t, err)
	return fake, clock, a, b
}

func TestLockIsHeldByOneSessionUntilItsTTLAndLockDelayPass(t *testing.T) {
	t.Parallel()
	fake, clock, a, b := twoAgents(t)
	ctx := lockCtx(t)
	leader, standby := agentLock(t, a, 10*time.Second, 15*time.Second), agentLock(t, b, 10*time.Second, 15*time.Second)

	path, err := leader.Acquire(ctx)
	must.NoError(t, err)
	must.Eq(t, lockPath, path)
	_, err = standby.Acquire(ctx)
	must.ErrorIs(t, err, api.ErrLockConflict)

	// Renewals within the TTL keep the lock, however long it is held.
	for range 3 {
		clock.Add(7 * time.Second)
		must.NoError(t, leader.Renew(ctx))
		_, err = standby.Acquire(ctx)
		must.ErrorIs(t, err, api.ErrLockConflict)
	}
	holder, expires := fake.LockHolder("default", lockPath)
	must.NotEq(t, "", holder)
	must.Eq(t, clock.Now().Add(10*time.Second), expires)

	// No renewal for a TTL: the lock expires, the old holder's session is
	// gone, and the lock delay keeps everyone out.
	clock.Add(10 * time.Second)
	must.ErrorIs(t, leader.Renew(ctx), api.ErrLockConflict)
	holder, _ = fake.LockHolder("default", lockPath)
	must.Eq(t, "", holder)
	clock.Add(15*time.Second - time.Millisecond)
	_, err = standby.Acquire(ctx)
	must.ErrorIs(t, err, api.ErrLockConflict, must.Sprint("the lock delay runs from the expiry"))

	clock.Add(time.Millisecond)
	_, err = standby.Acquire(ctx)
	must.NoError(t, err)
	must.ErrorIs(t, leader.Renew(ctx), api.ErrLockConflict, must.Sprint("the old session cannot renew the new holder's lock"))
	must.NoError(t, standby.Renew(ctx))

	var kinds []fakenomad.EventKind
	for _, e := range fake.Events() {
		kinds = append(kinds, e.Kind)
		must.Eq(t, "default/"+lockPath, e.NodeName)
	}
	must.Eq(t, []fakenomad.EventKind{fakenomad.EventLockAcquired, fakenomad.EventLockExpired, fakenomad.EventLockAcquired}, kinds)
}

func TestReleasedLockIsFreeAtOnceAndOnlyItsHolderReleasesIt(t *testing.T) {
	t.Parallel()
	_, _, a, b := twoAgents(t)
	ctx := lockCtx(t)
	leader, standby := agentLock(t, a, 10*time.Second, time.Minute), agentLock(t, b, 10*time.Second, time.Minute)

	_, err := leader.Acquire(ctx)
	must.NoError(t, err)
	must.ErrorIs(t, standby.Release(ctx), api.ErrLockConflict)
	must.NoError(t, leader.Release(ctx))
	_, err = standby.Acquire(ctx)
	must.NoError(t, err, must.Sprint("a release has no lock delay"))
	must.ErrorIs(t, leader.Release(ctx), api.ErrLockConflict)
}

func TestLockOperationsAnswerAsNomadDocumentsThem(t *testing.T) {
	t.Parallel()
	_, clock, client, _ := twoAgents(t)
	vars := client.Variables()

	acquired, _, err := vars.AcquireLock(&api.Variable{
		Path: lockPath, Items: api.VariableItems{"owner": "a"},
		Lock: &api.VariableLock{TTL: "15s", LockDelay: "1m"},
	}, nil)
	must.NoError(t, err)
	must.NotNil(t, acquired.Lock)
	must.Eq(t, "15s", acquired.Lock.TTL)
	must.Eq(t, "1m0s", acquired.Lock.LockDelay)
	must.UUIDv4(t, acquired.Lock.ID)
	must.Eq(t, "a", acquired.Items["owner"])

	clock.Add(5 * time.Second)
	meta, _, err := vars.RenewLock(&api.Variable{Path: lockPath, Lock: &api.VariableLock{ID: acquired.Lock.ID}}, nil)
	must.NoError(t, err)
	must.Eq(t, acquired.Lock.ID, meta.Lock.ID)

	// Others see the lock but not its ID, and cannot change the variable.
	read, _, err := vars.Read(lockPath, nil)
	must.NoError(t, err)
	must.NotNil(t, read.Lock)
	must.Eq(t, "", read.Lock.ID)
	_, _, err = vars.Update(&api.Variable{Path: lockPath, Items: api.VariableItems{"owner": "b"}}, nil)
	must.Eq(t, http.StatusConflict, statusOf(err))
	_, err = vars.Delete(lockPath, nil)
	must.Eq(t, http.StatusConflict, statusOf(err))
	// The holder can, with its lock ID.
	_, _, err = vars.Update(&api.Variable{Path: lockPath, Items: api.VariableItems{"owner": "a2"}, Lock: &api.VariableLock{ID: acquired.Lock.ID}}, nil)
	must.NoError(t, err)

	_, _, err = vars.ReleaseLock(&api.Variable{Path: lockPath, Items: api.VariableItems{"x": "y"}, Lock: &api.VariableLock{ID: acquired.Lock.ID}}, nil)
	must.Eq(t, http.StatusBadRequest, statusOf(err), must.Sprint("a release must not carry items"))
	released, _, err := vars.ReleaseLock(&api.Variable{Path: lockPath, Lock: &api.VariableLock{ID: acquired.Lock.ID}}, nil)
	must.NoError(t, err)
	must.Nil(t, released.Lock)
	must.Eq(t, "a2", released.Items["owner"], must.Sprint("the variable outlives its lock"))
	_, err = vars.Delete(lockPath, nil)
	must.NoError(t, err)
}

func TestLockTTLAndDelayOutsideNomadsBoundsAreRefused(t *testing.T) {
	t.Parallel()
	_, _, client, _ := twoAgents(t)
	for _, lock := range []api.VariableLock{
		{TTL: "5s", LockDelay: "15s"},
		{TTL: "15s", LockDelay: "2s"},
		{TTL: "25h", LockDelay: "15s"},
		{TTL: "soon", LockDelay: "15s"},
	} {
		_, _, err := client.Variables().AcquireLock(&api.Variable{Path: lockPath, Lock: &lock}, nil)
		must.Eq(t, http.StatusBadRequest, statusOf(err), must.Sprintf("TTL %s, delay %s", lock.TTL, lock.LockDelay))
	}
}

func TestLockOperationsNeedVariableWrite(t *testing.T) {
	t.Parallel()
	fake, _, url := start(t, fakenomad.Options{})
	must.NoError(t, fake.AddACLToken("reader", `
namespace "default" {
  variables {
    path "*" {
      capabilities = ["read"]
    }
  }
}`))
	reader, err := api.NewClient(&api.Config{Address: url, SecretID: "reader"})
	must.NoError(t, err)
	_, _, err = reader.Variables().AcquireLock(&api.Variable{Path: lockPath, Lock: &api.VariableLock{TTL: "10s", LockDelay: "10s"}}, nil)
	must.Eq(t, http.StatusForbidden, statusOf(err))
}
