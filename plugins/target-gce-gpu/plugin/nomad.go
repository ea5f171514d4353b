package plugin

import (
	"context"
	"errors"
	"fmt"
	"github.com/fleetslope/nomad-gpu-autoscaler/internal/nodeops"
	"github.com/fleetslope/nomad-gpu-autoscaler/internal/pluginkit"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/nomad-autoscaler/sdk/helper/scaleutils"
	"github.com/hashicorp/nomad-autoscaler/sdk/helper/scaleutils/nodepool"
	"github.com/hashicorp/nomad/api"
)

// Node attributes the GCE fingerprinter sets, as the official gce-mig reads them.
const (
	attrGCEHostname = "unique.platform.gce.hostname"
	attrGCEZone     = "platform.gce.zone"
)

// Dynamic node metadata keys of the scale-in marker.
const (
	metaPolicy   = "nomad_autoscaler.gce_gpu.policy"
	metaDesired  = "nomad_autoscaler.gce_gpu.desired_size"
	metaMarkedAt = "nomad_autoscaler.gce_gpu.marked_at"
	metaStandby  = "nomad_autoscaler.gce_gpu.standby"
)

// lastEventItem is the item of the policy's Nomad variable holding the
// time of its last scaling.
const lastEventItem = "last_event"

// lastEventPath is the Nomad variable that records a policy's last scaling,
// so the agent's cooldown survives restarts and failover.
func lastEventPath(policy string) string { return "nomad-autoscaler/target-gce-gpu/" + policy }

// nomadNodes implements nodeAPI with the Nomad API client.
type nomadNodes struct {
	client *api.Client
	retry  backoff
	// blockWait is how long one blocking query of the drain monitor waits.
	blockWait time.Duration
	// cache holds the pool nodes already read (nodecache.go); nil reads
	// every node every time.
	cache *nodeCache
}

var _ nodeAPI = nomadNodes{}

func (n nomadNodes) q(ctx context.Context) *api.QueryOptions {
	return (&api.QueryOptions{}).WithContext(ctx)
}
func (n nomadNodes) w(ctx context.Context) *api.WriteOptions {
	return (&api.WriteOptions{}).WithContext(ctx)
}

// PoolNodes implements nodeAPI. Pool membership and readiness reuse the
// SDK's scaleutils so the policy keys mean exactly what they mean for the
// official targets.
func (n nomadNodes) PoolNodes(ctx context.Context, pool map[string]string) ([]nomadNode, bool, error) {
	poolID, err := nodepool.NewClusterNodePoolIdentifier(pool)
	if err != nil {
		return nil, false, err
	}
	filterOpts, err := scaleutils.NewNodeFilterOptions(pool)
	if err != nil {
		return nil, false, err
	}
	var stubs []*api.NodeListStub
	if err := n.retry.Do(ctx, func(ctx context.Context) error {
		var err error
		stubs, _, err = n.client.Nodes().List(n.q(ctx))
		return err
	}); err != nil {
		return nil, false, fmt.Errorf("list Nomad nodes: %w", err)
	}
	n.cache.keepListed(stubs)
	_, unstable := scaleutils.FilterNodesWithOptions(stubs, poolID.IsPoolMember, filterOpts)
	var members []*api.NodeListStub
	for _, s := range stubs {
		if poolID.IsPoolMember(s) {
			members = append(members, s)
		}
	}
	nodes, err := n.infos(ctx, members)
	return nodes, unstable == nil, err
}

// infos reads every member's full node (attributes and metadata are not in
// the list stubs), a few at a time, except those cached at the list's
// ModifyIndex.
func (n nomadNodes) infos(ctx context.Context, stubs []*api.NodeListStub) ([]nomadNode, error) {
	out := make([]nomadNode, len(stubs))
	errs := make([]error, len(stubs))
	sem := make(chan struct{}, 8)
	var wg sync.WaitGroup
	for i, s := range stubs {
		if cached, ok := n.cache.get(s.ID, s.ModifyIndex); ok {
			out[i] = cached
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			var node *api.Node
			errs[i] = n.retry.Do(ctx, func(ctx context.Context) error {
				var err error
				node, _, err = n.client.Nodes().Info(s.ID, n.q(ctx))
				return err
			})
			if isNotFound(errs[i]) {
				// Purged between the list and the read: not a member any more.
				errs[i] = nil
				return
			}
			if errs[i] != nil {
				errs[i] = fmt.Errorf("read Nomad node %s (%s): %w", s.Name, s.ID, errs[i])
				return
			}
			out[i] = toNomadNode(node)
			n.cache.put(node.ID, node.ModifyIndex, out[i])
		}()
	}
	wg.Wait()
	return slices.DeleteFunc(out, func(n nomadNode) bool { return n.ID == "" }), errors.Join(errs...)
}

func isNotFound(err error) bool {
	var ue api.UnexpectedResponseError
	return errors.As(err, &ue) && ue.StatusCode() == http.StatusNotFound
}

func toNomadNode(node *api.Node) nomadNode {
	out := nomadNode{
		ID: node.ID, Name: node.Name, Status: node.Status, CreateIndex: node.CreateIndex,
		Eligible: node.SchedulingEligibility == api.NodeSchedulingEligible,
		Draining: node.DrainStrategy != nil,
		Instance: node.Name,
		Zone:     node.Attributes[attrGCEZone],
	}
	if h := node.Attributes[attrGCEHostname]; h != "" {
		out.Instance, _, _ = strings.Cut(h, ".")
	}
	if node.LastDrain != nil {
		out.LastDrainStatus = string(node.LastDrain.Status)
	}
	out.Marker = parseMarker(node.Meta)
	if n, ok, err := nodeops.Leaving(node.Meta); ok {
		out.Notice, out.NoticeErr = &n, err
	}
	if node.StatusUpdatedAt > 0 {
		out.StatusUpdatedAt = time.Unix(node.StatusUpdatedAt, 0)
	}
	return out
}

// parseMarker reads the scale-in marker; a partial or garbled marker is
// treated as none rather than guessed at.
func parseMarker(meta map[string]string) *scaleInMarker {
	policy := meta[metaPolicy]
	if policy == "" {
		return nil
	}
	desired, err1 := strconv.ParseInt(meta[metaDesired], 10, 64)
	at, err2 := strconv.ParseInt(meta[metaMarkedAt], 10, 64)
	if err1 != nil || err2 != nil {
		return nil
	}
	return &scaleInMarker{Policy: policy, DesiredSize: desired, MarkedAt: time.Unix(0, at), Standby: meta[metaStandby] == "true"}
}

// Load implements nodeAPI. It counts the node's allocations in every
// namespace the token may read: Nomad's node allocations endpoint ignores
// the client's namespace (nomad_namespace) and answers the allocations of
// all namespaces where the token has read-job, leaving out the others
// without an error. A namespace the token cannot read therefore makes its
// workers invisible here, which is why the shipped ACL policy grants
// read-job in "*".
func (n nomadNodes) Load(ctx context.Context, nodeID string) (nodeLoad, error) {
	var allocs []*api.Allocation
	if err := n.retry.Do(ctx, func(ctx context.Context) error {
		var err error
		allocs, _, err = n.client.Nodes().Allocations(nodeID, n.q(ctx))
		return err
	}); err != nil {
		return nodeLoad{}, fmt.Errorf("list allocations of node %s: %w", nodeID, err)
	}
	var l nodeLoad
	for _, a := range allocs {
		if a.ClientStatus != api.AllocClientStatusRunning && a.ClientStatus != api.AllocClientStatusPending {
			continue
		}
		l.Running++
		if a.Job == nil || a.Job.Type == nil || (*a.Job.Type != api.JobTypeSystem && *a.Job.Type != api.JobTypeSysbatch) {
			l.RunningNonSystem++
		}
		if a.AllocatedResources != nil {
			for _, t := range a.AllocatedResources.Tasks {
				for _, d := range t.Devices {
					if d.Type == "gpu" {
						l.GPUs += len(d.DeviceIDs)
					}
				}
			}
		}
	}
	return l, nil
}

// SetMarker implements nodeAPI.
func (n nomadNodes) SetMarker(ctx context.Context, nodeID string, m scaleInMarker) error {
	desired := strconv.FormatInt(m.DesiredSize, 10)
	at := strconv.FormatInt(m.MarkedAt.UnixNano(), 10)
	meta := map[string]*string{metaPolicy: &m.Policy, metaDesired: &desired, metaMarkedAt: &at, metaStandby: nil}
	if m.Standby {
		standby := "true"
		meta[metaStandby] = &standby
	}
	return n.applyMeta(ctx, nodeID, meta)
}

// ClearMarker implements nodeAPI.
func (n nomadNodes) ClearMarker(ctx context.Context, nodeID string) error {
	return n.applyMeta(ctx, nodeID, map[string]*string{metaPolicy: nil, metaDesired: nil, metaMarkedAt: nil, metaStandby: nil})
}

func (n nomadNodes) applyMeta(ctx context.Context, nodeID string, meta map[string]*string) error {
	err := n.retry.Do(ctx, func(ctx context.Context) error {
		_, err := n.client.Nodes().Meta().Apply(&api.NodeMetaApplyRequest{NodeID: nodeID, Meta: meta}, n.q(ctx))
		return err
	})
	if err != nil {
		return fmt.Errorf("update metadata of node %s: %w", nodeID, err)
	}
	return nil
}

// Drain implements nodeAPI. It replaces scaleutils' drain monitor, whose
// blocking queries ignore the context and which reports a canceled drain
// as complete: here a cancel is a failure and ctx bounds every request.
func (n nomadNodes) Drain(ctx context.Context, nodeID string, opts drainOptions) error {
	index, err := n.StartDrain(ctx, nodeID, opts)
	for done := false; err == nil && !done; {
		done, index, err = n.DrainDone(ctx, nodeID, index, n.blockWait)
	}
	return err
}

// StartDrain implements nodeAPI.
func (n nomadNodes) StartDrain(ctx context.Context, nodeID string, opts drainOptions) (uint64, error) {
	var resp *api.NodeDrainUpdateResponse
	err := n.retry.Do(ctx, func(ctx context.Context) error {
		var err error
		resp, err = n.client.Nodes().UpdateDrainOpts(nodeID, &api.DrainOptions{
			DrainSpec: &api.DrainSpec{Deadline: opts.Deadline, IgnoreSystemJobs: opts.IgnoreSystemJobs},
			Meta:      map[string]string{"drained_by": "nomad-autoscaler", "plugin": PluginName},
		}, n.w(ctx))
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("start drain of node %s: %w", nodeID, err)
	}
	return resp.LastIndex, nil
}

// DrainDone implements nodeAPI with one blocking query of the node.
func (n nomadNodes) DrainDone(ctx context.Context, nodeID string, index uint64, wait time.Duration) (bool, uint64, error) {
	var node *api.Node
	var meta *api.QueryMeta
	err := n.retry.Do(ctx, func(ctx context.Context) error {
		q := &api.QueryOptions{WaitIndex: index, WaitTime: wait}
		var err error
		node, meta, err = n.client.Nodes().Info(nodeID, q.WithContext(ctx))
		return err
	})
	if err != nil {
		return false, index, fmt.Errorf("monitor drain of node %s: %w", nodeID, err)
	}
	if node.DrainStrategy == nil {
		if node.LastDrain != nil && node.LastDrain.Status == api.DrainStatusCanceled {
			return false, index, fmt.Errorf("drain of node %s was canceled", nodeID)
		}
		return true, index, nil
	}
	return false, max(meta.LastIndex, index), nil
}

// Restore implements nodeAPI: a node that is still draining has its drain
// canceled (Nomad refuses eligibility while draining), otherwise it is
// marked eligible.
func (n nomadNodes) Restore(ctx context.Context, nodeID string) error {
	err := n.retry.Do(ctx, func(ctx context.Context) error {
		node, _, err := n.client.Nodes().Info(nodeID, n.q(ctx))
		if err != nil {
			return err
		}
		if node.DrainStrategy != nil {
			_, err = n.client.Nodes().UpdateDrainOpts(nodeID, &api.DrainOptions{MarkEligible: true}, n.w(ctx))
			return err
		}
		if node.SchedulingEligibility == api.NodeSchedulingEligible {
			return nil
		}
		_, err = n.client.Nodes().ToggleEligibility(nodeID, true, n.w(ctx))
		return err
	})
	if err != nil {
		return fmt.Errorf("make node %s eligible again: %w", nodeID, err)
	}
	return nil
}

// Purge implements nodeAPI.
func (n nomadNodes) Purge(ctx context.Context, nodeID string) error {
	err := n.retry.Do(ctx, func(ctx context.Context) error {
		_, _, err := n.client.Nodes().Purge(nodeID, n.q(ctx))
		return err
	})
	if err != nil {
		return fmt.Errorf("purge node %s: %w", nodeID, err)
	}
	return nil
}

// LastEvent implements nodeAPI. A 403 is an error, not "never scaled"
// (see pluginkit.ReadVariable).
func (n nomadNodes) LastEvent(ctx context.Context, policy string) (time.Time, error) {
	var items map[string]string
	err := n.retry.Do(ctx, func(ctx context.Context) error {
		var err error
		items, err = pluginkit.ReadVariable(ctx, n.client, lastEventPath(policy), n.q(ctx))
		return err
	})
	if err != nil {
		return time.Time{}, err
	}
	if items == nil {
		return time.Time{}, nil
	}
	ns, err := strconv.ParseInt(items[lastEventItem], 10, 64)
	if err != nil {
		return time.Time{}, fmt.Errorf("variable %s: %s %q is not Unix nanoseconds", lastEventPath(policy), lastEventItem, items[lastEventItem])
	}
	return time.Unix(0, ns), nil
}

// SetLastEvent implements nodeAPI.
func (n nomadNodes) SetLastEvent(ctx context.Context, policy string, t time.Time) error {
	v := &api.Variable{Path: lastEventPath(policy), Items: api.VariableItems{lastEventItem: strconv.FormatInt(t.UnixNano(), 10)}}
	err := n.retry.Do(ctx, func(ctx context.Context) error {
		_, _, err := n.client.Variables().Update(v, n.w(ctx))
		return err
	})
	if err != nil {
		return fmt.Errorf("write variable %s: %w", lastEventPath(policy), err)
	}
	return nil
}
