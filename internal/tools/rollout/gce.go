package rollout

import (
	"context"
	"errors"
	"fmt"
	"strings"

	compute "cloud.google.com/go/compute/apiv1"
	"cloud.google.com/go/compute/apiv1/computepb"
	"google.golang.org/api/iterator"
	"google.golang.org/api/option"
	"google.golang.org/protobuf/proto"

	"github.com/fleetslope/nomad-gpu-autoscaler/internal/pluginkit"
)

// GCE update policy values the rollout sets.
const (
	updateProactive     = "PROACTIVE"
	updateOpportunistic = "OPPORTUNISTIC"
)

// computeAPI is the part of the Compute Engine API the rollout uses. Every
// method bounds each request by the call timeout and retries rate limits,
// server errors and transport failures; errors name the MIG or template.
type computeAPI interface {
	// View reads a MIG, its versions, update policy and instances.
	View(ctx context.Context, ref migRef) (migView, error)
	// SetVersions replaces the MIG's versions and sets the rolling update
	// policy (typ, REPLACE, SUBSTITUTE, maxSurge 1, maxUnavailable 0), and
	// waits for the operation.
	SetVersions(ctx context.Context, ref migRef, versions []version, typ string) error
	// SetUpdateType changes only updatePolicy.type.
	SetUpdateType(ctx context.Context, ref migRef, typ string) error
	// CheckTemplate fails unless the instance template exists.
	CheckTemplate(ctx context.Context, url string) error
}

// computeClients implements computeAPI with the REST clients.
type computeClients struct {
	project   string
	migs      *compute.InstanceGroupManagersClient
	templates *compute.InstanceTemplatesClient
	calls     caller
}

var _ computeAPI = (*computeClients)(nil)

func newComputeClients(ctx context.Context, cfg config) (*computeClients, error) {
	var opts []option.ClientOption
	if cfg.computeEndpoint != "" {
		opts = append(opts, option.WithEndpoint(cfg.computeEndpoint))
	}
	if cfg.computeInsecure {
		opts = append(opts, option.WithoutAuthentication())
	}
	migs, err := compute.NewInstanceGroupManagersRESTClient(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("create compute client: %w", err)
	}
	templates, err := compute.NewInstanceTemplatesRESTClient(ctx, opts...)
	if err != nil {
		_ = migs.Close()
		return nil, fmt.Errorf("create instance templates client: %w", err)
	}
	return &computeClients{project: cfg.project, migs: migs, templates: templates, calls: caller{timeout: cfg.callTimeout}}, nil
}

func (c *computeClients) Close() {
	_ = c.migs.Close()
	_ = c.templates.Close()
}

// View implements computeAPI.
func (c *computeClients) View(ctx context.Context, ref migRef) (migView, error) {
	v := migView{Ref: ref}
	var m *computepb.InstanceGroupManager
	err := c.calls.backoff().Do(ctx, func(ctx context.Context) error {
		var err error
		m, err = c.migs.Get(ctx, &computepb.GetInstanceGroupManagerRequest{Project: c.project, Zone: ref.Zone, InstanceGroupManager: ref.Name})
		return err
	})
	if err != nil {
		return v, fmt.Errorf("get MIG %s: %w", ref, err)
	}
	v.TargetSize = int(m.GetTargetSize())
	v.Stable = m.GetStatus().GetIsStable()
	v.Reached = m.GetStatus().GetVersionTarget().GetIsReached()
	v.UpdateType = m.GetUpdatePolicy().GetType()
	for _, x := range m.GetVersions() {
		fixed := -1
		if ts := x.GetTargetSize(); ts != nil && ts.Fixed != nil {
			fixed = int(ts.GetFixed())
		}
		v.Versions = append(v.Versions, version{Name: x.GetName(), Template: templateName(x.GetInstanceTemplate()), URL: x.GetInstanceTemplate(), Fixed: fixed})
	}
	if len(v.Versions) == 0 && m.GetInstanceTemplate() != "" {
		v.Versions = []version{{Template: templateName(m.GetInstanceTemplate()), URL: m.GetInstanceTemplate(), Fixed: -1}}
	}
	err = c.calls.backoff().Do(ctx, func(ctx context.Context) error {
		v.Instances = v.Instances[:0]
		it := c.migs.ListManagedInstances(ctx, &computepb.ListManagedInstancesInstanceGroupManagersRequest{
			Project: c.project, Zone: ref.Zone, InstanceGroupManager: ref.Name,
		})
		for {
			mi, err := it.Next()
			if errors.Is(err, iterator.Done) {
				return nil
			}
			if err != nil {
				return err
			}
			url := mi.GetVersion().GetInstanceTemplate()
			v.Instances = append(v.Instances, instanceView{
				Name: templateName(mi.GetInstance()), Status: mi.GetInstanceStatus(), Action: mi.GetCurrentAction(),
				Template: templateName(url), TemplateURL: url,
			})
		}
	})
	if err != nil {
		return v, fmt.Errorf("list instances of MIG %s: %w", ref, err)
	}
	return v, nil
}

// rollingPolicy is the update policy of every patch: one VM above
// targetSize at a time, none below it.
func rollingPolicy(typ string) *computepb.InstanceGroupManagerUpdatePolicy {
	return &computepb.InstanceGroupManagerUpdatePolicy{
		Type: proto.String(typ), MinimalAction: proto.String("REPLACE"), ReplacementMethod: proto.String("SUBSTITUTE"),
		MaxSurge: &computepb.FixedOrPercent{Fixed: proto.Int32(1)}, MaxUnavailable: &computepb.FixedOrPercent{Fixed: proto.Int32(0)},
	}
}

// SetVersions implements computeAPI.
func (c *computeClients) SetVersions(ctx context.Context, ref migRef, versions []version, typ string) error {
	res := &computepb.InstanceGroupManager{UpdatePolicy: rollingPolicy(typ)}
	for _, v := range versions {
		pv := &computepb.InstanceGroupManagerVersion{Name: proto.String(v.Name), InstanceTemplate: proto.String(v.URL)}
		if v.Fixed >= 0 {
			pv.TargetSize = &computepb.FixedOrPercent{Fixed: proto.Int32(int32(v.Fixed))}
		}
		res.Versions = append(res.Versions, pv)
	}
	if err := c.patch(ctx, ref, res); err != nil {
		return fmt.Errorf("set versions of MIG %s: %w", ref, err)
	}
	return nil
}

// SetUpdateType implements computeAPI.
func (c *computeClients) SetUpdateType(ctx context.Context, ref migRef, typ string) error {
	res := &computepb.InstanceGroupManager{UpdatePolicy: &computepb.InstanceGroupManagerUpdatePolicy{Type: proto.String(typ)}}
	if err := c.patch(ctx, ref, res); err != nil {
		return fmt.Errorf("set update type of MIG %s to %s: %w", ref, typ, err)
	}
	return nil
}

// patch sends a PATCH with one requestId for all its retries, so GCE
// applies it once, waits for the operation and checks its error field
// (which Operation.Wait alone does not report).
func (c *computeClients) patch(ctx context.Context, ref migRef, res *computepb.InstanceGroupManager) error {
	reqID := pluginkit.NewRequestID()
	var op *compute.Operation
	if err := c.calls.backoff().Do(ctx, func(ctx context.Context) error {
		var err error
		op, err = c.migs.Patch(ctx, &computepb.PatchInstanceGroupManagerRequest{
			Project: c.project, Zone: ref.Zone, InstanceGroupManager: ref.Name,
			InstanceGroupManagerResource: res, RequestId: proto.String(reqID),
		})
		return err
	}); err != nil {
		return err
	}
	wctx, cancel := context.WithTimeout(ctx, c.calls.timeout)
	defer cancel()
	if err := op.Wait(wctx); err != nil {
		return fmt.Errorf("wait for operation %s: %w", op.Name(), err)
	}
	if errs := op.Proto().GetError().GetErrors(); len(errs) > 0 {
		msgs := make([]string, len(errs))
		for i, e := range errs {
			msgs[i] = e.GetCode() + ": " + e.GetMessage()
		}
		return fmt.Errorf("operation %s failed: %s", op.Name(), strings.Join(msgs, "; "))
	}
	return nil
}

// CheckTemplate implements computeAPI. A template of another project is
// read in that project.
func (c *computeClients) CheckTemplate(ctx context.Context, url string) error {
	project := c.project
	if p := projectOf(url); p != "" {
		project = p
	}
	err := c.calls.backoff().Do(ctx, func(ctx context.Context) error {
		_, err := c.templates.Get(ctx, &computepb.GetInstanceTemplateRequest{Project: project, InstanceTemplate: templateName(url)})
		return err
	})
	if err != nil {
		return fmt.Errorf("instance template %q: %w", url, err)
	}
	return nil
}

// projectOf returns the project of a "projects/p/..." path or URL.
func projectOf(url string) string {
	parts := strings.Split(url, "/")
	for i := 0; i+1 < len(parts); i++ {
		if parts[i] == "projects" {
			return parts[i+1]
		}
	}
	return ""
}
