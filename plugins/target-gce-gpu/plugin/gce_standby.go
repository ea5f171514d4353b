package plugin

import (
	"context"
	"fmt"
	"strings"
	"time"

	compute "cloud.google.com/go/compute/apiv1"
	"cloud.google.com/go/compute/apiv1/computepb"
	"google.golang.org/protobuf/proto"
)

// instanceRefs turns names into the zonal partial URLs the MIG calls take.
func instanceRefs(ref migRef, instances []string) []string {
	urls := make([]string, len(instances))
	for i, name := range instances {
		urls[i] = fmt.Sprintf("zones/%s/instances/%s", ref.Zone, name)
	}
	return urls
}

// StartInstances implements migAPI.
func (c computeMIGs) StartInstances(ctx context.Context, ref migRef, instances []string, requestID string) error {
	err := c.runOperation(ctx, func(ctx context.Context) (*compute.Operation, error) {
		return c.client.StartInstances(ctx, &computepb.StartInstancesInstanceGroupManagerRequest{
			Project: ref.Project, Zone: ref.Zone, InstanceGroupManager: ref.Name,
			InstanceGroupManagersStartInstancesRequestResource: &computepb.InstanceGroupManagersStartInstancesRequest{
				Instances: instanceRefs(ref, instances),
			},
			RequestId: proto.String(requestID),
		})
	})
	if err != nil {
		return fmt.Errorf("start instances %s of MIG %s: %w", strings.Join(instances, ", "), ref, err)
	}
	return nil
}

// StopInstances implements migAPI. forceStop skips initialDelaySec, which
// is meant for VMs the MIG creates for the pool: a drained worker has long
// pulled its image.
func (c computeMIGs) StopInstances(ctx context.Context, ref migRef, instances []string, requestID string) error {
	err := c.runOperation(ctx, func(ctx context.Context) (*compute.Operation, error) {
		return c.client.StopInstances(ctx, &computepb.StopInstancesInstanceGroupManagerRequest{
			Project: ref.Project, Zone: ref.Zone, InstanceGroupManager: ref.Name,
			InstanceGroupManagersStopInstancesRequestResource: &computepb.InstanceGroupManagersStopInstancesRequest{
				Instances: instanceRefs(ref, instances),
				ForceStop: proto.Bool(true),
			},
			RequestId: proto.String(requestID),
		})
	})
	if err != nil {
		return fmt.Errorf("stop instances %s of MIG %s: %w", strings.Join(instances, ", "), ref, err)
	}
	return nil
}

// SetStandby implements migAPI with a PATCH that carries only the standby
// fields (a JSON merge patch: everything else is left as it is).
func (c computeMIGs) SetStandby(ctx context.Context, ref migRef, s standbySettings, requestID string) error {
	err := c.runOperation(ctx, func(ctx context.Context) (*compute.Operation, error) {
		return c.client.Patch(ctx, &computepb.PatchInstanceGroupManagerRequest{
			Project: ref.Project, Zone: ref.Zone, InstanceGroupManager: ref.Name,
			InstanceGroupManagerResource: &computepb.InstanceGroupManager{
				TargetStoppedSize: proto.Int32(int32(s.Stopped)),
				StandbyPolicy: &computepb.InstanceGroupManagerStandbyPolicy{
					Mode:            proto.String(s.Mode),
					InitialDelaySec: proto.Int32(int32(s.InitialDelay / time.Second)),
				},
			},
			RequestId: proto.String(requestID),
		})
	})
	if err != nil {
		return fmt.Errorf("set standby pool of MIG %s to %d stopped VMs: %w", ref, s.Stopped, err)
	}
	return nil
}

// StoppedAt implements migAPI.
func (c computeMIGs) StoppedAt(ctx context.Context, ref migRef, instance string) (time.Time, error) {
	var in *computepb.Instance
	err := c.attempt(ctx, func(ctx context.Context) error {
		var err error
		in, err = c.instances.Get(ctx, &computepb.GetInstanceRequest{Project: ref.Project, Zone: ref.Zone, Instance: instance})
		return err
	})
	if err != nil {
		return time.Time{}, fmt.Errorf("get instance %s of MIG %s: %w", instance, ref, err)
	}
	ts := in.GetLastStopTimestamp()
	if ts == "" {
		ts = in.GetCreationTimestamp()
	}
	t, err := time.Parse(time.RFC3339Nano, ts)
	if err != nil {
		return time.Time{}, fmt.Errorf("instance %s of MIG %s: no valid stop or creation time", instance, ref)
	}
	return t, nil
}
