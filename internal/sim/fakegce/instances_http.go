package fakegce

import (
	"fmt"
	"net/http"

	"cloud.google.com/go/compute/apiv1/computepb"
	"google.golang.org/protobuf/proto"
)

// getInstance answers instances.get for a member of any MIG in the zone:
// name, status, creationTimestamp and, for a stopped VM,
// lastStopTimestamp (when its stop finished), which is what a target
// reads to tell how long a VM has been in the standby pool.
func (s *Server) getInstance(w http.ResponseWriter, r *http.Request) {
	if !s.projectOK(w, r) {
		return
	}
	zone, name := r.PathValue("zone"), r.PathValue("instance")
	s.mu.Lock()
	s.advanceLocked()
	var out *computepb.Instance
	for _, m := range s.migs {
		if m.zone != zone {
			continue
		}
		if in := m.find(name); in != nil {
			out = s.instanceProto(m, in)
			break
		}
	}
	s.unlock()
	if out == nil {
		writeError(w, http.StatusNotFound, fmt.Sprintf("The resource 'projects/%s/zones/%s/instances/%s' was not found", s.opts.Project, zone, name))
		return
	}
	writeProto(w, out)
}

func (s *Server) instanceProto(m *mig, in *instance) *computepb.Instance {
	status, _ := s.statusOf(in)
	if status == "" {
		status = "PROVISIONING"
	}
	out := &computepb.Instance{
		Kind:              proto.String("compute#instance"),
		Id:                proto.Uint64(in.id),
		Name:              proto.String(in.name),
		Zone:              proto.String(s.zoneURL(m.zone)),
		Status:            proto.String(status),
		CreationTimestamp: proto.String(rfc3339(in.createdAt)),
		SelfLink:          proto.String(InstanceURL(s.opts.Project, m.zone, in.name)),
	}
	if in.phase == phaseStopped || in.phase == phaseStarting {
		out.LastStopTimestamp = proto.String(rfc3339(in.stopAt))
	}
	return out
}
