package plugin

import (
	"context"
	"time"

	"github.com/fleetslope/nomad-gpu-autoscaler/internal/nodeops"
)

// migAPI is the part of the Compute Engine API the plugin uses: zonal
// managed instance groups. Every method retries 429, 5xx and transport
// errors with backoff within ctx; errors wrap the MIG ref. Methods that
// start an operation wait for it and fail when the operation finished with
// an error (which op.Wait alone does not report).
type migAPI interface {
	// Get returns the MIG's target size, stability and pending actions.
	Get(ctx context.Context, ref migRef) (migState, error)
	// Resize sets the MIG's target size. requestID makes a retried request
	// idempotent: GCE runs it once.
	Resize(ctx context.Context, ref migRef, size int64, requestID string) error
	// ListManagedInstances returns every instance of the MIG.
	ListManagedInstances(ctx context.Context, ref migRef) ([]managedInstance, error)
	// DeleteInstances deletes exactly the named instances of the MIG and
	// lowers its target size by as many; names no longer in the MIG are
	// skipped.
	DeleteInstances(ctx context.Context, ref migRef, instances []string, requestID string) error
	// ListErrors returns the MIG's recent instance errors, newest first.
	ListErrors(ctx context.Context, ref migRef) ([]instanceError, error)

	// The standby pool of stopped VMs (standby.go).

	// StartInstances starts the named stopped members: the MIG's target
	// size rises and its targetStoppedSize falls by their number. The
	// operation is done once GCE has accepted the starts; a start that
	// finds no GPU shows later on the instance (action STARTING, last
	// attempt error) and in ListErrors.
	StartInstances(ctx context.Context, ref migRef, instances []string, requestID string) error
	// StopInstances stops the named RUNNING members at once (forceStop,
	// ignoring initialDelaySec): the target size falls and
	// targetStoppedSize rises by their number.
	StopInstances(ctx context.Context, ref migRef, instances []string, requestID string) error
	// SetStandby sets the MIG's targetStoppedSize and its standby policy
	// (mode MANUAL, initialDelaySec) in one PATCH; the MIG then creates
	// and stops VMs, or deletes stopped ones, to match.
	SetStandby(ctx context.Context, ref migRef, s standbySettings, requestID string) error
	// StoppedAt returns when a stopped instance last stopped (its
	// lastStopTimestamp, else its creation time).
	StoppedAt(ctx context.Context, ref migRef, instance string) (time.Time, error)
}

// nomadNode is a Nomad client node with what the plugin needs to map it to
// an instance and to reconcile it.
type nomadNode struct {
	ID          string
	Name        string
	Status      string
	Eligible    bool
	Draining    bool
	CreateIndex uint64
	// Instance and Zone come from the unique.platform.gce.hostname (first
	// label) and platform.gce.zone attributes; Instance falls back to the
	// node name.
	Instance string
	Zone     string
	// LastDrainStatus is Nomad's LastDrain.Status ("draining", "complete",
	// "canceled") or empty.
	LastDrainStatus string
	// Marker is this plugin's scale-in marker, if the node carries one.
	Marker *scaleInMarker
	// Notice is cmd/maintenance-drain's notice that the node's host is
	// going away (internal/nodeops), if the node carries one, even with
	// malformed values; NoticeErr then names them (leaving.go).
	Notice    *nodeops.Notice
	NoticeErr error
	// StatusUpdatedAt is when Nomad last saw the node's status change: a
	// host back from maintenance re-registers after its notice.
	StatusUpdatedAt time.Time
}

// scaleInMarker is written into a node's dynamic metadata before its drain
// starts, so that whoever runs next (this process, a restarted agent, the
// new HA leader) can finish or undo an interrupted scale-in.
//
// A node whose VM goes into the standby pool gets a standby marker
// (Standby true, no desired size) before the stop: when the VM is started
// again its node comes back drained and ineligible, and the marker says to
// give it back rather than to finish a scale-in.
type scaleInMarker struct {
	Policy      string
	DesiredSize int64
	MarkedAt    time.Time
	Standby     bool
}

// nodeLoad is what node selection needs to know about a node's work.
type nodeLoad struct {
	Running          int
	RunningNonSystem int
	GPUs             int
}

// drainOptions is the drain a scale-in asks for.
type drainOptions struct {
	Deadline         time.Duration
	IgnoreSystemJobs bool
}

// nodeAPI is the part of the Nomad API the plugin uses. Methods honour ctx.
type nodeAPI interface {
	// PoolNodes returns the nodes of the pool described by the scaleutils
	// pool keys (node_pool, node_class, datacenter), with attributes and
	// markers. ready is false when the pool is unstable (nodes initializing
	// or draining), as scaleutils' readiness check defines it.
	PoolNodes(ctx context.Context, pool map[string]string) (nodes []nomadNode, ready bool, err error)
	// Load counts a node's running allocations and the GPUs they hold.
	Load(ctx context.Context, nodeID string) (nodeLoad, error)
	// SetMarker writes the scale-in marker into the node's metadata.
	SetMarker(ctx context.Context, nodeID string, m scaleInMarker) error
	// ClearMarker removes the scale-in marker.
	ClearMarker(ctx context.Context, nodeID string) error
	// Drain starts a drain and waits until it completes; an error means the
	// drain failed, was canceled, or ctx ended first.
	Drain(ctx context.Context, nodeID string, opts drainOptions) error
	// StartDrain starts a drain and returns the Raft index to watch it
	// from; DrainDone is one request of watching it: it waits up to wait
	// for the node to change after index and reports whether the drain is
	// over, and the index to ask from next. A canceled drain is an error.
	// Together they are Drain, split so that a scale-in can bound its
	// requests in flight (scalein.go).
	StartDrain(ctx context.Context, nodeID string, opts drainOptions) (index uint64, err error)
	DrainDone(ctx context.Context, nodeID string, index uint64, wait time.Duration) (done bool, next uint64, err error)
	// Restore cancels any drain and makes the node eligible again.
	Restore(ctx context.Context, nodeID string) error
	// Purge removes a node whose instance is gone.
	Purge(ctx context.Context, nodeID string) error
	// ClearNotice removes cmd/maintenance-drain's notice from the node's
	// metadata (leaving.go).
	ClearNotice(ctx context.Context, nodeID string) error
	// LastEvent reads the time of the policy's last scaling (zero if none).
	LastEvent(ctx context.Context, policy string) (time.Time, error)
	// SetLastEvent records the time of the policy's last scaling.
	SetLastEvent(ctx context.Context, policy string, t time.Time) error
}
