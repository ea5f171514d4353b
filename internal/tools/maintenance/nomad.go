package maintenance

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/hashicorp/nomad/api"

	"github.com/fleetslope/nomad-gpu-autoscaler/internal/nodeops"
)

// drainedBy is the drain's LastDrain.Meta["drained_by"], so an operator can
// tell this drain from the autoscaler's scale-in drains.
const drainedBy = "maintenance-drain"

// drainMetaNotice is the LastDrain.Meta key holding the noticeID the drain
// was started for.
const drainMetaNotice = "notice"

// errNodeNotFound means Nomad knows no node with the configured ID.
var errNodeNotFound = errors.New("node not found")

// nodeAPI is what the daemon does with its own Nomad node. Every method
// bounds its requests by its own deadline as well as by ctx.
type nodeAPI interface {
	// state reads the node's notice and drain. It returns errNodeNotFound
	// (wrapped) when the node does not exist.
	state(ctx context.Context, nodeID string) (nodeState, error)
	// mark writes the notice into the node's dynamic metadata.
	mark(ctx context.Context, nodeID string, n nodeops.Notice) error
	// clear deletes the notice from the node's dynamic metadata.
	clear(ctx context.Context, nodeID string) error
	// drain starts (or updates) a drain of the node with the deadline,
	// system jobs included: the GPU workers are a system job.
	drain(ctx context.Context, nodeID string, deadline time.Duration, n nodeops.Notice) error
}

// nomadNodes implements nodeAPI with the Nomad API client.
type nomadNodes struct {
	client  *api.Client
	timeout time.Duration // per request
}

var _ nodeAPI = nomadNodes{}

func (n nomadNodes) state(ctx context.Context, nodeID string) (nodeState, error) {
	var s nodeState
	err := n.call(ctx, func(ctx context.Context) error {
		// The client's own view of its dynamic metadata: the servers'
		// copy in Node.Meta lags by up to 10 s after a write.
		meta, err := n.client.Nodes().Meta().Read(nodeID, (&api.QueryOptions{}).WithContext(ctx))
		if err != nil {
			return err
		}
		s.notice, s.marked, s.noticeErr = nodeops.Leaving(meta.Meta)
		return nil
	})
	if err != nil {
		return nodeState{}, fmt.Errorf("read metadata of node %s: %w", nodeID, err)
	}
	var node *api.Node
	err = n.call(ctx, func(ctx context.Context) error {
		var err error
		node, _, err = n.client.Nodes().Info(nodeID, (&api.QueryOptions{}).WithContext(ctx))
		return err
	})
	if err != nil {
		return nodeState{}, fmt.Errorf("read node %s: %w", nodeID, err)
	}
	if d := node.DrainStrategy; d != nil {
		s.draining, s.forceDeadline = true, d.ForceDeadline
	}
	if ld := node.LastDrain; ld != nil && ld.Meta["drained_by"] == drainedBy {
		s.lastDrainFor = ld.Meta[drainMetaNotice]
	}
	return s, nil
}

func (n nomadNodes) mark(ctx context.Context, nodeID string, notice nodeops.Notice) error {
	return n.applyMeta(ctx, nodeID, notice.Meta())
}

func (n nomadNodes) clear(ctx context.Context, nodeID string) error {
	return n.applyMeta(ctx, nodeID, nodeops.Clear())
}

func (n nomadNodes) applyMeta(ctx context.Context, nodeID string, meta map[string]*string) error {
	err := n.call(ctx, func(ctx context.Context) error {
		_, err := n.client.Nodes().Meta().Apply(&api.NodeMetaApplyRequest{NodeID: nodeID, Meta: meta},
			(&api.QueryOptions{}).WithContext(ctx))
		return err
	})
	if err != nil {
		return fmt.Errorf("update metadata of node %s: %w", nodeID, err)
	}
	return nil
}

func (n nomadNodes) drain(ctx context.Context, nodeID string, deadline time.Duration, notice nodeops.Notice) error {
	err := n.call(ctx, func(ctx context.Context) error {
		_, err := n.client.Nodes().UpdateDrainOpts(nodeID, &api.DrainOptions{
			DrainSpec: &api.DrainSpec{Deadline: deadline},
			Meta: map[string]string{
				"drained_by":    drainedBy,
				drainMetaNotice: noticeID(notice),
				"leaving_at":    notice.LeavingAt.UTC().Format(time.RFC3339),
			},
		}, (&api.WriteOptions{}).WithContext(ctx))
		return err
	})
	if err != nil {
		return fmt.Errorf("drain node %s: %w", nodeID, err)
	}
	return nil
}

// call runs one request with the per-request deadline and classifies a 404.
func (n nomadNodes) call(ctx context.Context, fn func(context.Context) error) error {
	ctx, cancel := context.WithTimeout(ctx, n.timeout)
	defer cancel()
	err := fn(ctx)
	var ue api.UnexpectedResponseError
	if errors.As(err, &ue) && ue.StatusCode() == http.StatusNotFound {
		return fmt.Errorf("%w: %w", errNodeNotFound, err)
	}
	return err
}
