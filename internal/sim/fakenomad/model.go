package fakenomad

import (
	"fmt"
	"maps"
	"slices"
	"sort"
	"time"

	"github.com/hashicorp/nomad/api"
)

// NodeSpec describes a node to register with AddNode.
type NodeSpec struct {
	// ID is optional; a UUID-shaped ID is generated when empty.
	ID         string
	Name       string
	Datacenter string // default "dc1"
	NodeClass  string
	NodePool   string // default "default"
	Status     string // default "ready"
	Attributes map[string]string
	// Meta is the node's static metadata.
	Meta map[string]string
	// CPUShares and MemoryMB are the node's total resources; defaults 4000
	// and 16384 (scaleutils' least_busy selector divides by them).
	CPUShares int64
	MemoryMB  int64
	// GPUs is the number of nvidia/gpu device instances on the node.
	GPUs int
}

// AllocSpec describes an allocation to place with AddAllocation.
type AllocSpec struct {
	JobID   string
	JobType string // "service" (default), "system", "batch", "sysbatch"
	// Namespace is the job's namespace; default "default".
	Namespace string
	TaskGroup string // default "worker"
	// ClientStatus defaults to "running".
	ClientStatus string
	CPU          int // MHz; default 100
	MemoryMB     int // default 256
	GPUs         int
}

// NodeSnapshot is a copy of a node's state for assertions.
type NodeSnapshot struct {
	ID                    string
	Name                  string
	Datacenter            string
	NodeClass             string
	NodePool              string
	Status                string
	SchedulingEligibility string
	// Draining is true while a drain is in progress.
	Draining bool
	// DrainFailed is true while a drain injected with FailDrain is stuck.
	DrainFailed bool
	// LastDrain is nil until the node's first drain.
	LastDrain  *api.DrainMetadata
	Attributes map[string]string
	// Meta is the merged static and dynamic metadata.
	Meta map[string]string
	// Allocations are the node's allocations, sorted by ID.
	Allocations []AllocSnapshot
}

// AllocSnapshot is a copy of an allocation's state.
type AllocSnapshot struct {
	ID            string
	Namespace     string
	JobID         string
	JobType       string
	ClientStatus  string
	DesiredStatus string
	GPUs          int
}

type node struct {
	spec        NodeSpec
	id          string
	status      string
	eligibility string
	// statusUpdatedAt is when status last changed (Node.StatusUpdatedAt,
	// Unix seconds in the API): a node that went down and came back shows
	// a time after its outage.
	statusUpdatedAt time.Time
	dynMeta         map[string]string
	drain           *drainState
	lastDrain       *api.DrainMetadata
	createIndex     uint64
	modifyIndex     uint64
}

type alloc struct {
	id          string
	nodeID      string
	spec        AllocSpec
	client      string
	desired     string
	migrate     bool
	createIndex uint64
	modifyIndex uint64
	createTime  time.Time
	modifyTime  time.Time
}

// AddNode registers a node and returns its ID. A node with the same ID is
// replaced.
func (s *Server) AddNode(spec NodeSpec) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if spec.ID == "" {
		spec.ID = s.nextIDLocked()
	}
	if spec.Datacenter == "" {
		spec.Datacenter = "dc1"
	}
	if spec.NodePool == "" {
		spec.NodePool = "default"
	}
	if spec.Status == "" {
		spec.Status = api.NodeStatusReady
	}
	if spec.CPUShares <= 0 {
		spec.CPUShares = 4000
	}
	if spec.MemoryMB <= 0 {
		spec.MemoryMB = 16384
	}
	spec.Attributes = maps.Clone(spec.Attributes)
	spec.Meta = maps.Clone(spec.Meta)
	idx := s.bumpLocked(tableNodes)
	s.nodes[spec.ID] = &node{
		spec:            spec,
		id:              spec.ID,
		status:          spec.Status,
		eligibility:     api.NodeSchedulingEligible,
		statusUpdatedAt: s.opts.Now(),
		dynMeta:         map[string]string{},
		createIndex:     idx,
		modifyIndex:     idx,
	}
	s.eventLocked(EventNodeAdded, spec.ID, "")
	return spec.ID
}

// RemoveNode deregisters a node and its allocations. It reports whether the
// node existed.
func (s *Server) RemoveNode(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.removeNodeLocked(id)
}

func (s *Server) removeNodeLocked(id string) bool {
	if _, ok := s.nodes[id]; !ok {
		return false
	}
	s.eventLocked(EventNodeRemoved, id, "")
	delete(s.nodes, id)
	for _, a := range s.nodeAllocs[id] {
		delete(s.allocs, a.id)
	}
	delete(s.nodeAllocs, id)
	s.bumpLocked(tableNodes, tableAllocs)
	return true
}

// SetNodeStatus sets a node's status ("ready", "down", "initializing", ...).
// As in Nomad, a node going down loses its running and pending allocations
// (ClientStatus "lost", DesiredStatus "stop").
func (s *Server) SetNodeStatus(id, status string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	n, ok := s.nodes[id]
	if !ok {
		return fmt.Errorf("node %q not found", id)
	}
	if n.status != status {
		n.statusUpdatedAt = s.opts.Now()
	}
	n.status = status
	idx := s.bumpLocked(tableNodes, tableAllocs)
	n.modifyIndex = idx
	if status == api.NodeStatusDown {
		now := s.opts.Now()
		for _, a := range s.nodeAllocsLocked(id) {
			if a.client == api.AllocClientStatusRunning || a.client == api.AllocClientStatusPending {
				a.client, a.desired = api.AllocClientStatusLost, api.AllocDesiredStatusStop
				a.modifyIndex, a.modifyTime = idx, now
			}
		}
	}
	return nil
}

// NodeIDByName returns the ID of the node with that name.
func (s *Server) NodeIDByName(name string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for id, n := range s.nodes {
		if n.spec.Name == name {
			return id, true
		}
	}
	return "", false
}

// AddAllocation places an allocation on a node and returns its ID, or ""
// when the node does not exist.
func (s *Server) AddAllocation(nodeID string, spec AllocSpec) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.nodes[nodeID]; !ok {
		return ""
	}
	if spec.JobType == "" {
		spec.JobType = api.JobTypeService
	}
	if spec.TaskGroup == "" {
		spec.TaskGroup = "worker"
	}
	if spec.Namespace == "" {
		spec.Namespace = defaultNamespace
	}
	if spec.ClientStatus == "" {
		spec.ClientStatus = api.AllocClientStatusRunning
	}
	if spec.CPU <= 0 {
		spec.CPU = 100
	}
	if spec.MemoryMB <= 0 {
		spec.MemoryMB = 256
	}
	id := s.nextIDLocked()
	idx := s.bumpLocked(tableAllocs)
	now := s.opts.Now()
	a := &alloc{
		id: id, nodeID: nodeID, spec: spec,
		client: spec.ClientStatus, desired: api.AllocDesiredStatusRun,
		createIndex: idx, modifyIndex: idx, createTime: now, modifyTime: now,
	}
	s.allocs[id] = a
	s.nodeAllocs[nodeID] = append(s.nodeAllocs[nodeID], a)
	return id
}

// Node returns a snapshot of one node; its ID is empty when the node does
// not exist.
func (s *Server) Node(id string) NodeSnapshot {
	s.mu.Lock()
	defer s.unlock()
	s.advanceLocked()
	n, ok := s.nodes[id]
	if !ok {
		return NodeSnapshot{}
	}
	return s.snapshotLocked(n)
}

// Nodes returns snapshots of every node, sorted by name.
func (s *Server) Nodes() []NodeSnapshot {
	s.mu.Lock()
	defer s.unlock()
	s.advanceLocked()
	out := make([]NodeSnapshot, 0, len(s.nodes))
	for _, n := range s.nodes {
		out = append(out, s.snapshotLocked(n))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func (s *Server) snapshotLocked(n *node) NodeSnapshot {
	snap := NodeSnapshot{
		ID: n.id, Name: n.spec.Name, Datacenter: n.spec.Datacenter,
		NodeClass: n.spec.NodeClass, NodePool: n.spec.NodePool,
		Status: n.status, SchedulingEligibility: n.eligibility,
		Draining:    n.drain != nil,
		DrainFailed: n.drain != nil && n.drain.failMsg != "",
		Attributes:  maps.Clone(n.spec.Attributes),
		Meta:        n.mergedMeta(),
	}
	snap.LastDrain = n.lastDrainCopy()
	for _, a := range s.nodeAllocsLocked(n.id) {
		snap.Allocations = append(snap.Allocations, AllocSnapshot{
			ID: a.id, Namespace: a.spec.Namespace, JobID: a.spec.JobID, JobType: a.spec.JobType,
			ClientStatus: a.client, DesiredStatus: a.desired, GPUs: a.spec.GPUs,
		})
	}
	return snap
}

func (n *node) mergedMeta() map[string]string {
	m := maps.Clone(n.spec.Meta)
	if m == nil {
		m = map[string]string{}
	}
	maps.Copy(m, n.dynMeta)
	return m
}

// nodeAllocsLocked returns a node's allocations sorted by ID.
func (s *Server) nodeAllocsLocked(nodeID string) []*alloc {
	out := slices.Clone(s.nodeAllocs[nodeID])
	sort.Slice(out, func(i, j int) bool { return out[i].id < out[j].id })
	return out
}
