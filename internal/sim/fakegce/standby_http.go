package fakegce

import (
	"fmt"
	"io"
	"net/http"
	"time"

	"cloud.google.com/go/compute/apiv1/computepb"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

// readBody decodes a JSON request body into msg, answering 400 when it
// is not valid.
func readBody(w http.ResponseWriter, r *http.Request, msg proto.Message) bool {
	body, _ := io.ReadAll(r.Body)
	if len(body) == 0 {
		body = []byte("{}")
	}
	if err := (protojson.UnmarshalOptions{DiscardUnknown: true}).Unmarshal(body, msg); err != nil {
		writeError(w, http.StatusBadRequest, "Invalid JSON payload received. "+err.Error())
		return false
	}
	return true
}

// patchMIG applies the fields of a JSON merge patch the fake models:
// standbyPolicy (mode, initialDelaySec), targetStoppedSize, targetSize,
// and versions, instanceTemplate and updatePolicy (versions.go). Other
// fields are accepted and ignored; a suspended pool is refused.
func (s *Server) patchMIG(w http.ResponseWriter, r *http.Request) {
	var req computepb.InstanceGroupManager
	if !readBody(w, r, &req) {
		return
	}
	if msg := validatePatch(&req); msg != "" {
		writeError(w, http.StatusBadRequest, msg)
		return
	}
	m, reqID, ok := s.lockMutation(w, r)
	if !ok {
		return
	}
	// versions, instanceTemplate and updatePolicy (versions_http.go) are
	// checked against the templates before anything changes.
	prevVersions, prevPolicy := m.versions, m.policy
	if msg := s.patchVersionsLocked(m, &req); msg != "" {
		s.unlock()
		writeError(w, http.StatusBadRequest, msg)
		return
	}
	op, failed := s.newOperationLocked(m, "compute.instanceGroupManagers.patch", reqID)
	if failed {
		m.versions, m.policy = prevVersions, prevPolicy
	}
	if !failed {
		now := s.opts.Now()
		if sp := req.GetStandbyPolicy(); sp != nil {
			if sp.Mode != nil {
				m.standbyMode = sp.GetMode()
			}
			if sp.InitialDelaySec != nil {
				m.initialDelay = time.Duration(sp.GetInitialDelaySec()) * time.Second
			}
		}
		if req.TargetStoppedSize != nil {
			m.stoppedTarget = int(req.GetTargetStoppedSize())
			s.refillPoolLocked(m, now)
		}
		if req.TargetSize != nil {
			s.resizeLocked(m, int(req.GetTargetSize()))
		}
		s.rollLocked(m, now)
		s.notifyLocked()
	}
	out := s.opProto(op)
	s.unlock()
	writeProto(w, out)
}

// validatePatch returns GCE-like messages for values the API refuses.
func validatePatch(req *computepb.InstanceGroupManager) string {
	if sp := req.GetStandbyPolicy(); sp != nil {
		if sp.Mode != nil && sp.GetMode() != modeManual && sp.GetMode() != modeScaleOutPool {
			return fmt.Sprintf("Invalid value for field 'resource.standbyPolicy.mode': '%s'. Must be MANUAL or SCALE_OUT_POOL", sp.GetMode())
		}
		if d := sp.GetInitialDelaySec(); d < 0 || time.Duration(d)*time.Second > maxInitialDelay {
			return fmt.Sprintf("Invalid value for field 'resource.standbyPolicy.initialDelaySec': '%d'. Must be between 0 and 3600", d)
		}
	}
	if n := req.GetTargetStoppedSize(); n < 0 {
		return fmt.Sprintf("Invalid value for field 'resource.targetStoppedSize': '%d'. Must be greater than or equal to 0", n)
	}
	if n := req.GetTargetSize(); n < 0 {
		return fmt.Sprintf("Invalid value for field 'resource.targetSize': '%d'. Must be greater than or equal to 0", n)
	}
	if req.GetTargetSuspendedSize() != 0 {
		return fmt.Sprintf("Invalid value for field 'resource.targetSuspendedSize': '%d'. fakegce models stopped pools only (GPU VMs cannot be suspended)", req.GetTargetSuspendedSize())
	}
	return ""
}

// startInstances starts stopped members: targetSize rises and
// targetStoppedSize falls by their number. Any other instance answers 400
// and nothing changes.
func (s *Server) startInstances(w http.ResponseWriter, r *http.Request) {
	var req computepb.InstanceGroupManagersStartInstancesRequest
	if !readBody(w, r, &req) {
		return
	}
	s.poolMove(w, r, req.GetInstances(), "compute.instanceGroupManagers.startInstances",
		func(in *instance) bool { return in.standby && in.phase == phaseStopped }, "stopped",
		func(m *mig, in *instance, now time.Time) {
			m.target++
			m.stoppedTarget--
			s.startLocked(m, in, now)
		})
}

// stopInstances stops RUNNING members of the running target: targetSize
// falls and targetStoppedSize rises by their number. Each stops once
// initialDelaySec has passed since its creation (forceStop: at once).
func (s *Server) stopInstances(w http.ResponseWriter, r *http.Request) {
	var req computepb.InstanceGroupManagersStopInstancesRequest
	if !readBody(w, r, &req) {
		return
	}
	force := req.GetForceStop()
	s.poolMove(w, r, req.GetInstances(), "compute.instanceGroupManagers.stopInstances",
		func(in *instance) bool { return !in.standby && in.phase == phaseRunning }, "running",
		func(m *mig, in *instance, now time.Time) {
			m.target--
			m.stoppedTarget++
			in.standby, in.stopAt = true, in.createdAt.Add(m.initialDelay)
			if force || in.stopAt.Before(now) {
				in.stopAt = now
			}
		})
}

// poolMove validates that every referenced instance is a member in the
// wanted state (named by state in the 400 message), then records the
// operation and applies move to each, unless the operation fails by
// injection.
func (s *Server) poolMove(w http.ResponseWriter, r *http.Request, refs []string, opType string,
	eligible func(*instance) bool, state string, move func(*mig, *instance, time.Time)) {
	if len(refs) == 0 {
		writeError(w, http.StatusBadRequest, "Required field 'instances' not specified")
		return
	}
	m, reqID, ok := s.lockMutation(w, r)
	if !ok {
		return
	}
	targets, msg := s.resolveInstancesLocked(m, refs, false)
	seen := make(map[*instance]bool, len(targets))
	for i, in := range targets {
		if msg == "" && seen[in] {
			msg = fmt.Sprintf("The instance '%s' is listed more than once.", refs[i])
		}
		seen[in] = true
		if msg == "" && !eligible(in) {
			status, action := s.statusOf(in)
			msg = fmt.Sprintf("The instance '%s' is not %s (status %s, current action %s).", refs[i], state, status, action)
		}
	}
	if msg != "" {
		s.unlock()
		writeError(w, http.StatusBadRequest, msg)
		return
	}
	op, failed := s.newOperationLocked(m, opType, reqID)
	if !failed {
		now := s.opts.Now()
		for _, in := range targets {
			move(m, in, now)
		}
		s.advanceLocked()
		s.notifyLocked()
	}
	out := s.opProto(op)
	s.unlock()
	writeProto(w, out)
}
