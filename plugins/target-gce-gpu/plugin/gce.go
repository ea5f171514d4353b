package plugin

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	compute "cloud.google.com/go/compute/apiv1"
	"cloud.google.com/go/compute/apiv1/computepb"
	"google.golang.org/api/iterator"
	"google.golang.org/api/option"
	"google.golang.org/protobuf/proto"

	"github.com/fleetslope/nomad-gpu-autoscaler/internal/pluginkit"
)

// perAttemptTimeout bounds one HTTP request so that a hung connection is
// retried instead of eating the whole call's deadline.
const perAttemptTimeout = 30 * time.Second

// newMIGClient creates the REST clients (instance group managers, and
// instances for the standby pool's stop times). Authentication is only ever turned
// off for an explicit non-Google endpoint (compute_insecure).
func newMIGClient(ctx context.Context, cfg pluginConfig) (*compute.InstanceGroupManagersClient, *compute.InstancesClient, error) {
	var opts []option.ClientOption
	if cfg.computeEndpoint != "" {
		opts = append(opts, option.WithEndpoint(cfg.computeEndpoint))
	}
	switch {
	case cfg.computeInsecure:
		opts = append(opts, option.WithoutAuthentication())
	case len(cfg.credentialsJSON) > 0:
		// The credentials come from the operator's own agent config, so
		// the deprecation warning about untrusted JSON does not apply.
		//lint:ignore SA1019 no non-deprecated way to pass explicit JSON credentials
		opts = append(opts, option.WithCredentialsJSON(cfg.credentialsJSON)) //nolint:staticcheck
	}
	c, err := compute.NewInstanceGroupManagersRESTClient(ctx, opts...)
	if err != nil {
		return nil, nil, fmt.Errorf("create compute client: %w", err)
	}
	ic, err := compute.NewInstancesRESTClient(ctx, opts...)
	if err != nil {
		return nil, nil, fmt.Errorf("create compute instances client: %w", err)
	}
	return c, ic, nil
}

// computeMIGs implements migAPI with the compute REST clients.
type computeMIGs struct {
	client *compute.InstanceGroupManagersClient
	// instances reads a stopped VM's lastStopTimestamp (instances.get).
	instances *compute.InstancesClient
	retry     backoff
	// pollInterval is the pause between operation polls.
	pollInterval time.Duration
}

var _ migAPI = computeMIGs{}

// attempt runs one retried API call with a per-attempt deadline.
func (c computeMIGs) attempt(ctx context.Context, fn func(context.Context) error) error {
	return c.retry.Do(ctx, func(ctx context.Context) error {
		actx, cancel := context.WithTimeout(ctx, perAttemptTimeout)
		defer cancel()
		return fn(actx)
	})
}

// Get implements migAPI.
func (c computeMIGs) Get(ctx context.Context, ref migRef) (migState, error) {
	var m *computepb.InstanceGroupManager
	err := c.attempt(ctx, func(ctx context.Context) error {
		var err error
		m, err = c.client.Get(ctx, &computepb.GetInstanceGroupManagerRequest{
			Project: ref.Project, Zone: ref.Zone, InstanceGroupManager: ref.Name,
		})
		return err
	})
	if err != nil {
		return migState{}, fmt.Errorf("get MIG %s: %w", ref, err)
	}
	a := m.GetCurrentActions()
	var sized []string
	for _, v := range m.GetVersions() {
		if v.GetTargetSize() != nil && len(m.GetVersions()) > 1 {
			sized = append(sized, lastSegment(v.GetInstanceTemplate()))
		}
	}
	return migState{
		Updating:       m.GetStatus().GetVersionTarget() != nil && !m.GetStatus().GetVersionTarget().GetIsReached(),
		SizedTemplates: sized,
		TargetSize:     int64(m.GetTargetSize()),
		Stable:         m.GetStatus().GetIsStable(),
		Creating:       int64(a.GetCreating() + a.GetCreatingWithoutRetries()),
		Deleting:       int64(a.GetDeleting()),
		Standby: standbySettings{
			Stopped:      int64(m.GetTargetStoppedSize()),
			Mode:         m.GetStandbyPolicy().GetMode(),
			InitialDelay: time.Duration(m.GetStandbyPolicy().GetInitialDelaySec()) * time.Second,
		},
	}, nil
}

// Resize implements migAPI.
func (c computeMIGs) Resize(ctx context.Context, ref migRef, size int64, requestID string) error {
	err := c.runOperation(ctx, func(ctx context.Context) (*compute.Operation, error) {
		return c.client.Resize(ctx, &computepb.ResizeInstanceGroupManagerRequest{
			Project: ref.Project, Zone: ref.Zone, InstanceGroupManager: ref.Name,
			Size: int32(size), RequestId: proto.String(requestID),
		})
	})
	if err != nil {
		return fmt.Errorf("resize MIG %s to %d: %w", ref, size, err)
	}
	return nil
}

// DeleteInstances implements migAPI. An instance that is no longer in the
// MIG (deleted by an operator, a repair or an earlier call whose answer was
// lost) is skipped rather than failing the whole request
// (skipInstancesOnValidationError): it is gone, which is what was asked.
func (c computeMIGs) DeleteInstances(ctx context.Context, ref migRef, instances []string, requestID string) error {
	urls := make([]string, len(instances))
	for i, name := range instances {
		urls[i] = fmt.Sprintf("zones/%s/instances/%s", ref.Zone, name)
	}
	err := c.runOperation(ctx, func(ctx context.Context) (*compute.Operation, error) {
		return c.client.DeleteInstances(ctx, &computepb.DeleteInstancesInstanceGroupManagerRequest{
			Project: ref.Project, Zone: ref.Zone, InstanceGroupManager: ref.Name,
			InstanceGroupManagersDeleteInstancesRequestResource: &computepb.InstanceGroupManagersDeleteInstancesRequest{
				Instances:                      urls,
				SkipInstancesOnValidationError: proto.Bool(true),
			},
			RequestId: proto.String(requestID),
		})
	})
	if err != nil {
		return fmt.Errorf("delete instances %s of MIG %s: %w", strings.Join(instances, ", "), ref, err)
	}
	return nil
}

// ListManagedInstances implements migAPI.
func (c computeMIGs) ListManagedInstances(ctx context.Context, ref migRef) ([]managedInstance, error) {
	var out []managedInstance
	err := c.attempt(ctx, func(ctx context.Context) error {
		out = out[:0]
		it := c.client.ListManagedInstances(ctx, &computepb.ListManagedInstancesInstanceGroupManagersRequest{
			Project: ref.Project, Zone: ref.Zone, InstanceGroupManager: ref.Name,
		})
		for {
			mi, err := it.Next()
			if errors.Is(err, iterator.Done) {
				return nil
			}
			if err != nil {
				return err
			}
			inst := managedInstance{
				Name:          lastSegment(mi.GetInstance()),
				Status:        mi.GetInstanceStatus(),
				CurrentAction: mi.GetCurrentAction(),
				Template:      lastSegment(mi.GetVersion().GetInstanceTemplate()),
			}
			if errs := mi.GetLastAttempt().GetErrors().GetErrors(); len(errs) > 0 {
				inst.LastAttemptCode = errs[0].GetCode()
			}
			out = append(out, inst)
		}
	})
	if err != nil {
		return nil, fmt.Errorf("list instances of MIG %s: %w", ref, err)
	}
	return out, nil
}

// ListErrors implements migAPI.
func (c computeMIGs) ListErrors(ctx context.Context, ref migRef) ([]instanceError, error) {
	var out []instanceError
	err := c.attempt(ctx, func(ctx context.Context) error {
		out = out[:0]
		it := c.client.ListErrors(ctx, &computepb.ListErrorsInstanceGroupManagersRequest{
			Project: ref.Project, Zone: ref.Zone, InstanceGroupManager: ref.Name,
		})
		for {
			e, err := it.Next()
			if errors.Is(err, iterator.Done) {
				return nil
			}
			if err != nil {
				return err
			}
			ts, _ := time.Parse(time.RFC3339Nano, e.GetTimestamp())
			out = append(out, instanceError{
				Code:     e.GetError().GetCode(),
				Message:  e.GetError().GetMessage(),
				Instance: lastSegment(e.GetInstanceActionDetails().GetInstance()),
				Time:     ts,
			})
		}
	})
	if err != nil {
		return nil, fmt.Errorf("list errors of MIG %s: %w", ref, err)
	}
	return out, nil
}

// operationError is an operation that finished with an error field. GCE
// reports it with HTTP 200 and op.Wait returns nil, so it must be checked.
type operationError struct {
	Name  string
	Codes []string
	Msgs  []string
}

func (e *operationError) Error() string {
	parts := make([]string, len(e.Codes))
	for i := range e.Codes {
		parts[i] = e.Codes[i] + ": " + e.Msgs[i]
	}
	return fmt.Sprintf("operation %s failed: %s", e.Name, strings.Join(parts, "; "))
}

// runOperation starts an operation (retried; the requestId makes that
// safe) and polls it until DONE, then checks its error field.
func (c computeMIGs) runOperation(ctx context.Context, start func(context.Context) (*compute.Operation, error)) error {
	var op *compute.Operation
	if err := c.attempt(ctx, func(ctx context.Context) error {
		var err error
		op, err = start(ctx)
		return err
	}); err != nil {
		return err
	}
	for !op.Done() {
		timer := time.NewTimer(c.pollInterval)
		select {
		case <-ctx.Done():
			timer.Stop()
			return fmt.Errorf("wait for operation %s: %w", op.Name(), ctx.Err())
		case <-timer.C:
		}
		if err := c.attempt(ctx, func(ctx context.Context) error {
			err := op.Poll(ctx)
			if err != nil && op.Done() {
				// The operation itself failed (httpErrorStatusCode set):
				// polling it again cannot change that.
				return pluginkit.Permanent(err)
			}
			return err
		}); err != nil {
			return fmt.Errorf("poll operation %s: %w", op.Name(), err)
		}
	}
	if errs := op.Proto().GetError().GetErrors(); len(errs) > 0 {
		oe := &operationError{Name: op.Name()}
		for _, e := range errs {
			oe.Codes = append(oe.Codes, e.GetCode())
			oe.Msgs = append(oe.Msgs, e.GetMessage())
		}
		return oe
	}
	return nil
}

func lastSegment(url string) string {
	if i := strings.LastIndexByte(url, '/'); i >= 0 {
		return url[i+1:]
	}
	return url
}
