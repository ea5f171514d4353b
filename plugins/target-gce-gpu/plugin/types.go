package plugin

import (
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"sort"
	"strings"
	"time"
)

// migRef names one zonal managed instance group.
type migRef struct {
	Project string
	Zone    string
	Name    string
}

// String is the form used in errors and logs: "zone/name" (the project is
// the same for every MIG of a policy).
func (r migRef) String() string { return r.Zone + "/" + r.Name }

// migState is what Get returns about a MIG.
type migState struct {
	TargetSize int64
	Stable     bool
	// Creating counts instances the MIG is still trying to create (with
	// retries, e.g. during a stockout).
	Creating int64
	Deleting int64
	// Standby is the MIG's standby pool settings: targetStoppedSize and
	// standbyPolicy.
	Standby standbySettings
	// Updating is true while status.versionTarget.isReached is false: a
	// rollout replaces VMs (rollout.go). SizedTemplates are the templates
	// of versions with a targetSize of their own: a canary's.
	Updating       bool
	SizedTemplates []string
}

// GCE instance status and current action values the plugin relies on.
const (
	instanceRunning = "RUNNING"
	actionNone      = "NONE"
	actionCreating  = "CREATING"
)

// managedInstance is one entry of listManagedInstances.
type managedInstance struct {
	// Name is the instance name (last element of the instance URL).
	Name string
	// Status is the VM status (RUNNING, PROVISIONING, ...); empty while the
	// VM does not exist yet.
	Status string
	// CurrentAction is the MIG's action on it (NONE, CREATING, DELETING, ...).
	CurrentAction string
	// LastAttemptCode is the error code of the MIG's last failed attempt to
	// create the instance (ZONE_RESOURCE_POOL_EXHAUSTED, QUOTA_EXCEEDED, ...).
	LastAttemptCode string
	// Template is the name of the instance template of its version; Canary
	// marks a VM of a version with its own targetSize (rollout.go).
	Template string
	Canary   bool
}

// stuck reports whether the MIG keeps failing to create or to start the
// instance for lack of capacity: there is no running VM and no Nomad node
// behind it.
func (m managedInstance) stuck() bool { return m.stuckCreation() || m.stuckStart() }

// exists reports whether a VM is behind the entry (as opposed to a creation
// the MIG keeps retrying).
func (m managedInstance) exists() bool { return m.Status != "" }

// stuckCreation reports whether the MIG keeps failing to create the
// instance for lack of capacity: there is no VM behind it.
func (m managedInstance) stuckCreation() bool {
	return m.CurrentAction == actionCreating && !m.exists() && isCapacityCode(m.LastAttemptCode)
}

// instanceError is one entry of listErrors.
type instanceError struct {
	Code     string
	Message  string
	Instance string
	Time     time.Time
}

// GCE error codes that mean "no capacity here": the MIG keeps retrying and
// stays unstable, which must not block scaling (#839).
var capacityCodes = []string{
	"ZONE_RESOURCE_POOL_EXHAUSTED",
	"ZONE_RESOURCE_POOL_EXHAUSTED_WITH_DETAILS",
	"RESOURCE_POOL_EXHAUSTED",
	"QUOTA_EXCEEDED",
	"RESOURCE_EXHAUSTED",
}

// isCapacityCode reports whether a GCE error code is a stockout or quota.
func isCapacityCode(code string) bool { return slices.Contains(capacityCodes, code) }

// policyKey is a short stable digest of a policy's project and MIGs. It is
// written into node markers so that a policy only reconciles its own nodes,
// even across agent restarts and HA failover.
func policyKey(project string, migs []migRef) string {
	parts := make([]string, 0, len(migs))
	for _, m := range migs {
		parts = append(parts, m.Zone+"/"+m.Name)
	}
	sort.Strings(parts)
	sum := sha256.Sum256([]byte(project + "|" + strings.Join(parts, ",")))
	return hex.EncodeToString(sum[:6])
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
