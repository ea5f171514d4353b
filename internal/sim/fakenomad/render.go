package fakenomad

import (
	"fmt"
	"maps"

	"github.com/hashicorp/nomad/api"
)

// apiNode renders a node as GET /v1/node/<id> returns it.
func (s *Server) apiNode(n *node) *api.Node {
	return &api.Node{
		ID:                    n.id,
		Datacenter:            n.spec.Datacenter,
		Name:                  n.spec.Name,
		HTTPAddr:              "127.0.0.1:4646",
		Attributes:            n.spec.Attributes,
		NodeResources:         n.resources(),
		ReservedResources:     &api.NodeReservedResources{},
		Meta:                  n.mergedMeta(),
		NodeClass:             n.spec.NodeClass,
		NodePool:              n.spec.NodePool,
		Drain:                 n.drain != nil,
		DrainStrategy:         n.drain.strategy(),
		SchedulingEligibility: n.eligibility,
		Status:                n.status,
		StatusUpdatedAt:       n.statusUpdatedAt.Unix(),
		LastDrain:             n.lastDrainCopy(),
		CreateIndex:           n.createIndex,
		ModifyIndex:           n.modifyIndex,
	}
}

// apiStub renders a node as GET /v1/nodes lists it.
func (s *Server) apiStub(n *node, withResources, withOS bool) *api.NodeListStub {
	stub := &api.NodeListStub{
		Address:               "127.0.0.1",
		ID:                    n.id,
		Datacenter:            n.spec.Datacenter,
		Name:                  n.spec.Name,
		NodeClass:             n.spec.NodeClass,
		NodePool:              n.spec.NodePool,
		Version:               "1.10.0",
		Drain:                 n.drain != nil,
		SchedulingEligibility: n.eligibility,
		Status:                n.status,
		LastDrain:             n.lastDrainCopy(),
		CreateIndex:           n.createIndex,
		ModifyIndex:           n.modifyIndex,
	}
	if withResources {
		stub.NodeResources = n.resources()
		stub.ReservedResources = &api.NodeReservedResources{}
	}
	if withOS {
		// Nomad copies only os.name into list stubs.
		stub.Attributes = map[string]string{"os.name": n.spec.Attributes["os.name"]}
	}
	return stub
}

func (n *node) resources() *api.NodeResources {
	r := &api.NodeResources{
		Cpu:    api.NodeCpuResources{CpuShares: n.spec.CPUShares},
		Memory: api.NodeMemoryResources{MemoryMB: n.spec.MemoryMB},
	}
	if n.spec.GPUs > 0 {
		dev := &api.NodeDeviceResource{Vendor: "nvidia", Type: "gpu", Name: "L4"}
		for i := range n.spec.GPUs {
			dev.Instances = append(dev.Instances, &api.NodeDevice{
				ID: fmt.Sprintf("GPU-%s-%d", n.id[:8], i), Healthy: true,
			})
		}
		r.Devices = []*api.NodeDeviceResource{dev}
	}
	return r
}

// apiAlloc renders an allocation as the node allocations endpoint does.
func (s *Server) apiAlloc(a *alloc) *api.Allocation {
	ns, jobID, jobType := a.spec.Namespace, a.spec.JobID, a.spec.JobType
	cpu, mem := a.spec.CPU, a.spec.MemoryMB
	nodeName := ""
	if n, ok := s.nodes[a.nodeID]; ok {
		nodeName = n.spec.Name
	}
	task := &api.AllocatedTaskResources{
		Cpu:    api.AllocatedCpuResources{CpuShares: int64(cpu)},
		Memory: api.AllocatedMemoryResources{MemoryMB: int64(mem)},
	}
	res := &api.Resources{CPU: &cpu, MemoryMB: &mem}
	if a.spec.GPUs > 0 {
		dev := &api.AllocatedDeviceResource{Vendor: "nvidia", Type: "gpu", Name: "L4"}
		for i := range a.spec.GPUs {
			dev.DeviceIDs = append(dev.DeviceIDs, fmt.Sprintf("GPU-%s-%d", a.nodeID[:8], i))
		}
		task.Devices = []*api.AllocatedDeviceResource{dev}
		count := uint64(a.spec.GPUs)
		res.Devices = []*api.RequestedDevice{{Name: "nvidia/gpu", Count: &count}}
	}
	out := &api.Allocation{
		ID:        a.id,
		Namespace: ns,
		Name:      fmt.Sprintf("%s.%s[0]", jobID, a.spec.TaskGroup),
		NodeID:    a.nodeID,
		NodeName:  nodeName,
		JobID:     jobID,
		Job:       &api.Job{ID: &jobID, Name: &jobID, Type: &jobType, Namespace: &ns},
		TaskGroup: a.spec.TaskGroup,
		Resources: res,
		AllocatedResources: &api.AllocatedResources{
			Tasks: map[string]*api.AllocatedTaskResources{a.spec.TaskGroup: task},
		},
		DesiredStatus:    a.desired,
		ClientStatus:     a.client,
		CreateIndex:      a.createIndex,
		ModifyIndex:      a.modifyIndex,
		AllocModifyIndex: a.modifyIndex,
		CreateTime:       a.createTime.UnixNano(),
		ModifyTime:       a.modifyTime.UnixNano(),
	}
	if a.migrate {
		t := true
		out.DesiredTransition.Migrate = &t
	}
	return out
}

// lastDrainCopy copies LastDrain so it can be encoded after the lock is
// released while a drain goes on.
func (n *node) lastDrainCopy() *api.DrainMetadata {
	if n.lastDrain == nil {
		return nil
	}
	ld := *n.lastDrain
	ld.Meta = maps.Clone(ld.Meta)
	return &ld
}
