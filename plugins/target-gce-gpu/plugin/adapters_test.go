package plugin

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/fleetslope/nomad-gpu-autoscaler/internal/sim/fakenomad"
	"github.com/googleapis/gax-go/v2/apierror"
	"github.com/hashicorp/nomad/api"
	"github.com/shoenig/test/must"
	"google.golang.org/api/googleapi"

	"github.com/fleetslope/nomad-gpu-autoscaler/internal/pluginkit"
)

func TestNomadAdapterCountsLoadAndSkipsVanishedNodes(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{sizeA: 1})
	_, nodes, err := h.p.clients(t.Context(), mustTarget(t, h.policy))
	must.NoError(t, err)
	id := h.nodeByInstance(h.instances(zoneA, migA)[0]).ID
	h.nomad.AddAllocation(id, fakenomad.AllocSpec{JobID: "train", GPUs: 2})
	h.nomad.AddAllocation(id, fakenomad.AllocSpec{JobID: "logs", JobType: "system"})
	h.nomad.AddAllocation(id, fakenomad.AllocSpec{JobID: "done", ClientStatus: "complete", GPUs: 1})

	load, err := nodes.Load(t.Context(), id)
	must.NoError(t, err)
	must.Eq(t, nodeLoad{Running: 2, RunningNonSystem: 1, GPUs: 2}, load)

	got, err := nodes.(nomadNodes).infos(t.Context(), []*api.NodeListStub{{ID: id}, {ID: "4f1d7a3e-0000-0000-0000-000000000000", Name: "purged"}})
	must.NoError(t, err)
	must.Len(t, 1, got)
	must.Eq(t, h.instances(zoneA, migA)[0], got[0].Instance)
	must.Eq(t, zoneA, got[0].Zone)
}

func TestRetryable(t *testing.T) {
	t.Parallel()
	apiErr := func(code int) error {
		e, _ := apierror.FromError(&googleapi.Error{Code: code})
		return fmt.Errorf("get MIG z/m: %w", e)
	}
	cases := []struct {
		name string
		err  error
		want bool
	}{
		{"rate limiting is retried", apiErr(http.StatusTooManyRequests), true},
		{"a server error is retried", apiErr(http.StatusServiceUnavailable), true},
		{"not found is final", apiErr(http.StatusNotFound), false},
		{"permission denied is final", apiErr(http.StatusForbidden), false},
		{"a timed out attempt is retried", context.DeadlineExceeded, true},
		{"cancellation is final", context.Canceled, false},
		{"a failed operation is final even if it wraps a 503", pluginkit.Permanent(apiErr(http.StatusServiceUnavailable)), false},
		{"an operation error is final", &operationError{Name: "op", Codes: []string{"X"}, Msgs: []string{"y"}}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			must.Eq(t, tc.want, pluginkit.Retryable(tc.err))
		})
	}
}

func TestBackoffStopsAtTheAttemptLimitAndTheDeadline(t *testing.T) {
	t.Parallel()
	b := backoff{Attempts: 3, Initial: time.Millisecond, Max: 2 * time.Millisecond}
	calls := 0
	err := b.Do(t.Context(), func(context.Context) error { calls++; return context.DeadlineExceeded })
	must.ErrorIs(t, err, context.DeadlineExceeded)
	must.Eq(t, 3, calls)

	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	calls = 0
	err = backoff{Attempts: 50, Initial: time.Hour, Max: time.Hour}.Do(ctx, func(context.Context) error {
		calls++
		return errors.Join(errors.New("busy"), context.DeadlineExceeded)
	})
	must.ErrorIs(t, err, context.Canceled)
	must.Eq(t, 1, calls, must.Sprint("a dead context stops the retries instead of sleeping"))

	for n := range 30 {
		p := defaultBackoff.Pause(n)
		must.Positive(t, p)
		must.LessEq(t, defaultBackoff.Max+defaultBackoff.Max/10, p)
	}
}
