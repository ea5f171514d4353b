package e2e

import (
	"encoding/json"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/fleetslope/nomad-gpu-autoscaler/internal/sim/fakenomad"
	"github.com/fleetslope/nomad-gpu-autoscaler/internal/sim/simcloud"
)

// deletion is one instance named in a successful deleteInstances request.
type deletion struct {
	At       time.Time // real time the request arrived
	Zone     string
	Instance string
}

// shrink is a resize request that lowered a MIG's target size: GCE then
// deletes instances of its own choosing, without any drain.
type shrink struct {
	At       time.Time
	Zone     string
	From, To int
}

// gceEvidence reads the fake GCE's request log in order.
func (s *stack) gceEvidence(initialPerZone int) (dels []deletion, shrinks []shrink) {
	target := map[string]int{zoneA: initialPerZone, zoneB: initialPerZone}
	for _, r := range s.cloud.GCE.Requests() {
		if r.Method != "POST" || r.Status != 200 {
			continue
		}
		zone := zoneOf(r.Path)
		switch {
		case strings.HasSuffix(r.Path, "/resize"):
			n, err := strconv.Atoi(r.Query.Get("size"))
			if err != nil {
				continue
			}
			if n < target[zone] {
				shrinks = append(shrinks, shrink{At: r.Received, Zone: zone, From: target[zone], To: n})
			}
			target[zone] = n
		case strings.HasSuffix(r.Path, "/deleteInstances"):
			var body struct {
				Instances []string `json:"instances"`
			}
			if json.Unmarshal([]byte(r.Body), &body) != nil {
				continue
			}
			for _, in := range body.Instances {
				dels = append(dels, deletion{At: r.Received, Zone: zone, Instance: path.Base(in)})
			}
			target[zone] -= len(body.Instances)
		}
	}
	return dels, shrinks
}

// zoneOf reads the zone from a compute API path .../zones/{zone}/...
func zoneOf(p string) string {
	parts := strings.Split(p, "/")
	for i := 0; i+1 < len(parts); i++ {
		if parts[i] == "zones" {
			return parts[i+1]
		}
	}
	return ""
}

// drain is what the fake Nomad recorded about one node's drains.
type drain struct {
	Started, Completed time.Time // real times; zero when it did not happen
	Canceled           bool
}

func (s *stack) drains() map[string]drain {
	out := map[string]drain{}
	for _, e := range s.cloud.Nomad.Events() {
		d := out[e.NodeName]
		switch e.Kind {
		case fakenomad.EventDrainStarted:
			if d.Started.IsZero() {
				d.Started = e.Received
			}
		case fakenomad.EventDrainCompleted:
			d.Completed = e.Received
		case fakenomad.EventDrainCanceled, fakenomad.EventDrainFailed:
			d.Canceled = true
		default:
			continue
		}
		out[e.NodeName] = d
	}
	return out
}

// instances returns the names of the instances that exist now, by zone.
func (s *stack) instances() map[string]string {
	out := map[string]string{}
	for _, m := range s.cloud.State().MIGs {
		for _, in := range m.Instances {
			out[in.Name] = m.Zone
		}
	}
	return out
}

// nodeNamed returns the node's admin view, failing the test when it is unknown.
func (s *stack) nodeNamed(name string) simcloud.Node {
	s.t.Helper()
	for _, n := range s.cloud.State().Nodes {
		if n.Name == name {
			return n
		}
	}
	s.t.Fatalf("no node named %s", name)
	return simcloud.Node{}
}
