package rollout

import (
	"context"
	"fmt"
	"strings"

	"github.com/hashicorp/nomad/api"
)

// nodeSource finds the Nomad node behind a VM and its worker allocations.
type nodeSource interface {
	// Node returns the node whose name (or first label of it) is the
	// instance's name; Found is false when none is registered yet.
	Node(ctx context.Context, instance string) (nodeObs, error)
}

// nomadNodes implements nodeSource with the Nomad API.
type nomadNodes struct {
	client    *api.Client
	workerJob string
	metaKey   string
	calls     caller
}

var _ nodeSource = nomadNodes{}

func newNomadNodes(cfg config) (nomadNodes, error) {
	nc := api.DefaultConfig()
	nc.Address, nc.SecretID = cfg.nomadAddr, cfg.nomadToken
	c, err := api.NewClient(nc)
	if err != nil {
		return nomadNodes{}, fmt.Errorf("nomad-addr %q: %w", cfg.nomadAddr, err)
	}
	return nomadNodes{client: c, workerJob: cfg.workerJob, metaKey: cfg.templateMetaKey, calls: caller{timeout: cfg.callTimeout}}, nil
}

// Node implements nodeSource.
func (n nomadNodes) Node(ctx context.Context, instance string) (nodeObs, error) {
	var stubs []*api.NodeListStub
	if err := n.calls.backoff().Do(ctx, func(ctx context.Context) error {
		var err error
		stubs, _, err = n.client.Nodes().List((&api.QueryOptions{}).WithContext(ctx))
		return err
	}); err != nil {
		return nodeObs{}, fmt.Errorf("list Nomad nodes: %w", err)
	}
	// A VM recreated under the same name registers a new node: the newest
	// one is the VM's.
	var stub *api.NodeListStub
	for _, s := range stubs {
		if first, _, _ := strings.Cut(s.Name, "."); first == instance && (stub == nil || s.CreateIndex > stub.CreateIndex) {
			stub = s
		}
	}
	if stub == nil {
		return nodeObs{}, nil
	}
	obs := nodeObs{Found: true, Name: stub.Name, Status: stub.Status, Eligibility: stub.SchedulingEligibility, Draining: stub.Drain}
	var node *api.Node
	var allocs []*api.Allocation
	if err := n.calls.backoff().Do(ctx, func(ctx context.Context) error {
		var err error
		q := (&api.QueryOptions{}).WithContext(ctx)
		if node, _, err = n.client.Nodes().Info(stub.ID, q); err != nil {
			return err
		}
		allocs, _, err = n.client.Nodes().Allocations(stub.ID, q)
		return err
	}); err != nil {
		return nodeObs{}, fmt.Errorf("read Nomad node %s: %w", stub.Name, err)
	}
	obs.Template = node.Meta[n.metaKey]
	for _, a := range allocs {
		if a.JobID != n.workerJob || a.DesiredStatus == api.AllocDesiredStatusStop {
			continue
		}
		ao := allocObs{ID: a.ID, ClientStatus: a.ClientStatus}
		if a.DeploymentStatus != nil {
			ao.Healthy = a.DeploymentStatus.Healthy
		}
		obs.Allocs = append(obs.Allocs, ao)
	}
	return obs, nil
}
