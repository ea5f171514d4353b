package fakegce

import (
	"fmt"
	"sort"
	"time"

	"cloud.google.com/go/compute/apiv1/computepb"
	"google.golang.org/protobuf/proto"
)

// MIGSnapshot is a copy of a MIG's state for assertions and the simulator.
type MIGSnapshot struct {
	Zone       string
	Name       string
	TargetSize int
	// TargetStoppedSize and StandbyMode are the standby pool's settings.
	TargetStoppedSize int
	StandbyMode       string
	Stable            bool
	// Versions are the MIG's versions; VersionTargetReached is
	// status.versionTarget.isReached; UpdateType is updatePolicy.type.
	Versions             []VersionSnapshot
	VersionTargetReached bool
	UpdateType           string
	// Instances are in creation order, including DELETING ones.
	Instances []InstanceSnapshot
	// Errors are the listErrors items, oldest first.
	Errors []ErrorSnapshot
}

// InstanceSnapshot is one managed instance.
type InstanceSnapshot struct {
	Name string
	URL  string
	// Status is the instanceStatus ("" while waiting for capacity,
	// STAGING, RUNNING, STOPPING, and TERMINATED when stopped).
	Status string
	// CurrentAction is CREATING, NONE, DELETING, STOPPING or STARTING.
	CurrentAction string
	// Standby marks a member of the standby pool: stopped, or on its way.
	Standby   bool
	CreatedAt time.Time
	// LastErrorCode is the code of the last failed creation attempt, if any.
	LastErrorCode string
	// Template is the name of the instance template the VM is created from.
	Template string
}

// VersionSnapshot is one of a MIG's versions: Fixed or Percent is its
// targetSize (both -1 when unset: the rest of the group).
type VersionSnapshot struct {
	Name     string
	Template string
	Fixed    int
	Percent  int
}

// ErrorSnapshot is one listErrors item.
type ErrorSnapshot struct {
	Time     time.Time
	Code     string
	Message  string
	Instance string
	Action   string
}

// MIG returns a snapshot of one MIG; Name is empty when it does not exist.
func (s *Server) MIG(zone, name string) MIGSnapshot {
	s.mu.Lock()
	defer s.unlock()
	s.advanceLocked()
	m, ok := s.migs[migKey(zone, name)]
	if !ok {
		return MIGSnapshot{}
	}
	return s.snapshotLocked(m)
}

// MIGs returns snapshots of every MIG, sorted by zone and name.
func (s *Server) MIGs() []MIGSnapshot {
	s.mu.Lock()
	defer s.unlock()
	s.advanceLocked()
	out := make([]MIGSnapshot, 0, len(s.migs))
	for _, m := range s.migs {
		out = append(out, s.snapshotLocked(m))
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Zone != out[j].Zone {
			return out[i].Zone < out[j].Zone
		}
		return out[i].Name < out[j].Name
	})
	return out
}

func (s *Server) snapshotLocked(m *mig) MIGSnapshot {
	snap := MIGSnapshot{Zone: m.zone, Name: m.name, TargetSize: m.target, Stable: m.stable(),
		TargetStoppedSize: m.stoppedTarget, StandbyMode: m.mode(),
		VersionTargetReached: m.reached(), UpdateType: m.policy.typ}
	for _, v := range m.versions {
		vs := VersionSnapshot{Name: v.name, Template: v.template, Fixed: -1, Percent: -1}
		if v.fixed != nil {
			vs.Fixed = *v.fixed
		}
		if v.percent != nil {
			vs.Percent = *v.percent
		}
		snap.Versions = append(snap.Versions, vs)
	}
	for _, in := range m.instances {
		status, action := s.statusOf(in)
		is := InstanceSnapshot{
			Name: in.name, URL: InstanceURL(s.opts.Project, m.zone, in.name),
			Status: status, CurrentAction: action, CreatedAt: in.createdAt, Standby: in.standby,
			Template: in.template,
		}
		if in.lastErr != nil {
			is.LastErrorCode = in.lastErr.code
		}
		snap.Instances = append(snap.Instances, is)
	}
	for _, e := range m.errors {
		snap.Errors = append(snap.Errors, ErrorSnapshot{Time: e.at, Code: e.code, Message: e.message, Instance: e.instance, Action: e.action})
	}
	return snap
}

// status returns the instanceStatus and currentAction GCE shows for an
// instance of the running target (standby.go's statusOf covers the pool).
func (in *instance) status() (string, string) {
	switch in.phase {
	case phaseBooting:
		return "STAGING", "CREATING"
	case phaseRunning:
		return "RUNNING", "NONE"
	case phaseDeleting:
		return "STOPPING", "DELETING"
	default:
		return "", "CREATING"
	}
}

// stable: every instance of the running target RUNNING and on its target
// version, every one of the standby pool stopped, both at their target
// sizes, nothing being deleted.
func (m *mig) stable() bool {
	if len(m.instances) != m.target+m.stoppedTarget || !m.reached() {
		return false
	}
	for _, in := range m.instances {
		want := phaseRunning
		if in.standby {
			want = phaseStopped
		}
		if in.phase != want {
			return false
		}
	}
	return true
}

func (s *Server) migProto(m *mig) *computepb.InstanceGroupManager {
	var creating, deleting, none, starting, stopping int32
	for _, in := range m.instances {
		switch _, action := s.statusOf(in); action {
		case "CREATING":
			creating++
		case "DELETING":
			deleting++
		case "STARTING":
			starting++
		case "STOPPING":
			stopping++
		default:
			none++
		}
	}
	zero := proto.Int32(0)
	return &computepb.InstanceGroupManager{
		Kind:              proto.String("compute#instanceGroupManager"),
		Id:                proto.Uint64(m.id),
		Name:              proto.String(m.name),
		Zone:              proto.String(s.zoneURL(m.zone)),
		BaseInstanceName:  proto.String(m.name),
		CreationTimestamp: proto.String(rfc3339(m.created)),
		InstanceTemplate:  proto.String(s.templateURLOf(m.defaultTemplate())),
		Versions:          s.versionsProto(m),
		UpdatePolicy:      updatePolicyProto(m.policy),
		InstanceGroup:     proto.String(fmt.Sprintf("%s/instanceGroups/%s", s.zoneURL(m.zone), m.name)),
		SelfLink:          proto.String(s.migURL(m)),
		Fingerprint:       proto.String("ZmFrZWdjZQ=="),
		TargetSize:        proto.Int32(int32(m.target)),
		TargetStoppedSize: proto.Int32(int32(m.stoppedTarget)),
		// GPU VMs cannot be suspended: the fake keeps no suspended pool.
		TargetSuspendedSize: zero,
		StandbyPolicy: &computepb.InstanceGroupManagerStandbyPolicy{
			Mode: proto.String(m.mode()), InitialDelaySec: proto.Int32(int32(m.initialDelay / time.Second)),
		},
		CurrentActions: &computepb.InstanceGroupManagerActionsSummary{
			Creating: proto.Int32(creating), Deleting: proto.Int32(deleting), None: proto.Int32(none),
			Abandoning: zero, CreatingWithoutRetries: zero, Recreating: zero, Refreshing: zero,
			Restarting: zero, Resuming: zero, Starting: proto.Int32(starting), Stopping: proto.Int32(stopping), Suspending: zero, Verifying: zero,
		},
		Status: &computepb.InstanceGroupManagerStatus{
			IsStable:      proto.Bool(m.stable()),
			VersionTarget: &computepb.InstanceGroupManagerStatusVersionTarget{IsReached: proto.Bool(m.reached())},
		},
		ListManagedInstancesResults: proto.String("PAGINATED"),
	}
}

func (s *Server) managedInstanceProto(m *mig, in *instance) *computepb.ManagedInstance {
	status, action := s.statusOf(in)
	out := &computepb.ManagedInstance{
		Id:            proto.Uint64(in.id),
		Name:          proto.String(in.name),
		Instance:      proto.String(InstanceURL(s.opts.Project, m.zone, in.name)),
		CurrentAction: proto.String(action),
		Version:       s.instanceVersionProto(m, in),
	}
	if status != "" {
		out.InstanceStatus = proto.String(status)
	}
	if in.lastErr != nil {
		out.LastAttempt = &computepb.ManagedInstanceLastAttempt{Errors: &computepb.ManagedInstanceLastAttemptErrors{
			Errors: []*computepb.Errors{{Code: proto.String(in.lastErr.code), Message: proto.String(in.lastErr.message)}},
		}}
	}
	return out
}
