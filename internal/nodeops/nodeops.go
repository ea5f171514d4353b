// Package nodeops is the contract between cmd/maintenance-drain, which runs
// on every GPU node, and target-gce-gpu: how a node says, in its Nomad
// dynamic node metadata, that its VM is about to go away.
//
// The daemon writes three keys with Nodes().Meta().Apply (the request body
// is Notice.Meta) as soon as the GCE metadata server announces a host
// maintenance (instance/maintenance-event = TERMINATE_ON_HOST_MAINTENANCE)
// or a Spot preemption (instance/preempted = TRUE), and deletes them
// (Clear) when the metadata server says the event is over or withdrawn:
//
//	nomad_autoscaler.leaving             maintenance | preemption
//	nomad_autoscaler.leaving_at          RFC 3339 UTC: when the host goes away
//	nomad_autoscaler.leaving_noticed_at  RFC 3339 UTC: when the notice was seen
//
// A reader (the target) calls Leaving on a node's Meta map. A node for which
// Leaving reports true is not capacity, even when a value is malformed: a
// node someone marked as leaving must not be counted on.
package nodeops

import (
	"errors"
	"fmt"
	"time"
)

// The dynamic node metadata keys. They share the nomad_autoscaler. prefix
// of target-gce-gpu's own scale-in markers.
const (
	KeyLeaving   = "nomad_autoscaler.leaving"
	KeyLeavingAt = "nomad_autoscaler.leaving_at"
	KeyNoticedAt = "nomad_autoscaler.leaving_noticed_at"
)

// Kind is why a node is leaving.
type Kind string

// The kinds of notice.
const (
	// KindMaintenance: GCE stops the VM for host maintenance. GPU VMs
	// cannot live-migrate and get the notice about an hour ahead.
	KindMaintenance Kind = "maintenance"
	// KindPreemption: GCE preempts the Spot VM; about 30 s are left.
	KindPreemption Kind = "preemption"
)

// timeLayout is how the times are written: seconds are enough for events
// announced 30 s to an hour ahead, and operators read these values in
// `nomad node meta read` during an incident.
const timeLayout = time.RFC3339

// Notice says that a node's host is going away.
type Notice struct {
	Kind Kind
	// LeavingAt is when the host is expected to go away. The metadata
	// server gives no time: the daemon adds the documented notice length to
	// NoticedAt.
	LeavingAt time.Time
	// NoticedAt is when the daemon first saw the notice.
	NoticedAt time.Time
}

// NewNotice returns the notice of kind seen at noticedAt, with the host
// leaving lead later. Times are kept to the second, as they are written.
func NewNotice(kind Kind, noticedAt time.Time, lead time.Duration) Notice {
	at := noticedAt.UTC().Truncate(time.Second)
	return Notice{Kind: kind, NoticedAt: at, LeavingAt: at.Add(lead)}
}

// Meta is the Meta of the api.NodeMetaApplyRequest that marks the node.
func (n Notice) Meta() map[string]*string {
	kind := string(n.Kind)
	at := n.LeavingAt.UTC().Format(timeLayout)
	seen := n.NoticedAt.UTC().Format(timeLayout)
	return map[string]*string{KeyLeaving: &kind, KeyLeavingAt: &at, KeyNoticedAt: &seen}
}

// Clear is the Meta of the api.NodeMetaApplyRequest that removes the mark:
// a null value deletes a dynamic metadata key.
func Clear() map[string]*string {
	return map[string]*string{KeyLeaving: nil, KeyLeavingAt: nil, KeyNoticedAt: nil}
}

// Leaving reads a node's notice from its metadata (api.Node.Meta, which
// merges static and dynamic metadata). ok is true when the node is marked
// as leaving, that is when KeyLeaving holds any non-empty value. err
// describes the values that could not be read, naming the key and the
// value; the fields read from them are left zero.
func Leaving(meta map[string]string) (n Notice, ok bool, err error) {
	kind := meta[KeyLeaving]
	if kind == "" {
		return Notice{}, false, nil
	}
	var errs []error
	switch k := Kind(kind); k {
	case KindMaintenance, KindPreemption:
		n.Kind = k
	default:
		errs = append(errs, fmt.Errorf("node meta %s=%q: want %q or %q", KeyLeaving, kind, KindMaintenance, KindPreemption))
	}
	n.LeavingAt, errs = readTime(meta, KeyLeavingAt, errs)
	n.NoticedAt, errs = readTime(meta, KeyNoticedAt, errs)
	return n, true, errors.Join(errs...)
}

func readTime(meta map[string]string, key string, errs []error) (time.Time, []error) {
	v, present := meta[key]
	if !present {
		return time.Time{}, append(errs, fmt.Errorf("node meta %s: missing", key))
	}
	t, err := time.Parse(timeLayout, v)
	if err != nil {
		return time.Time{}, append(errs, fmt.Errorf("node meta %s=%q: not an RFC 3339 time", key, v))
	}
	return t.UTC(), errs
}
