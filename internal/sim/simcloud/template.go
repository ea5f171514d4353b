package simcloud

import (
	"github.com/fleetslope/nomad-gpu-autoscaler/internal/sim/fakenomad"
)

// TemplateMetaKey is the node metadata key that names the instance
// template a node's VM was created from. On GCE a MIG sets the instance
// metadata key "instance-template" on its VMs; a startup script copies its
// last segment into the Nomad client's meta, so that a rollout can tell
// the nodes of a new golden image from the others.
const TemplateMetaKey = "instance_template"

// SetTemplateBad marks an instance template bad (or good again): the
// worker allocation placed on a node of its VMs fails at once and is not
// placed again there, as a golden image whose model containers crash
// would, so the node never serves. Nodes already running keep their state.
func (c *Cluster) SetTemplateBad(template string, bad bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if bad {
		c.badTemplates[template] = true
	} else {
		delete(c.badTemplates, template)
	}
}

// AddTemplate registers an instance template with the fake GCE, as an
// operator creates one before a rollout.
func (c *Cluster) AddTemplate(name string) { c.GCE.AddTemplate(name) }

func (c *Cluster) workersFail(nodeID string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.badTemplates[c.nodeTemplate[nodeID]]
}

// instanceTemplate returns the name of the template an instance was
// created from, "" when it is not found.
func (c *Cluster) instanceTemplate(zone, mig, instance string) string {
	for _, in := range c.GCE.MIG(zone, mig).Instances {
		if in.Name == instance {
			return in.Template
		}
	}
	return ""
}

// hasWorker reports whether the node has any allocation of job, in any
// state.
func hasWorker(n fakenomad.NodeSnapshot, job string) bool {
	for _, a := range n.Allocations {
		if a.JobID == job {
			return true
		}
	}
	return false
}
