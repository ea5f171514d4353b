package simcloud

import (
	"fmt"
	"time"

	"github.com/hashicorp/nomad/api"
)

// LoseInstance simulates a VM of a MIG dying under its workload (a host
// failure, a kernel panic) and the MIG recreating it, as far as Nomad
// sees it: the instance's node goes down at once (its allocations lost,
// as Nomad marks them), and BootTime later the recreated VM registers a
// new ready node under the same instance name, unless the instance was
// deleted meanwhile. The fake GCE keeps the instance RUNNING throughout
// (a real MIG shows it RECREATING): only the Nomad side of the loss is
// simulated. It returns an error when the instance has no node.
func (c *Cluster) LoseInstance(zone, instance string) error {
	c.mu.Lock()
	id, ok := c.nodes[zone+"/"+instance]
	c.mu.Unlock()
	if !ok {
		return fmt.Errorf("lose instance %s/%s: it has no Nomad node", zone, instance)
	}
	if err := c.Nomad.SetNodeStatus(id, api.NodeStatusDown); err != nil {
		return fmt.Errorf("lose instance %s/%s: %w", zone, instance, err)
	}
	mig := ""
	if n := c.Nomad.Node(id); n.Meta != nil {
		mig = n.Meta["mig"]
	}
	time.AfterFunc(c.clock.Real(c.cfg.BootTime), func() { c.recreated(zone, mig, instance, id) })
	return nil
}

// recreated registers the recreated VM's node in place of the lost one,
// if the instance is still in its MIG and its node is still the lost one.
func (c *Cluster) recreated(zone, mig, instance, lostID string) {
	c.mu.Lock()
	current, ok := c.nodes[zone+"/"+instance]
	c.mu.Unlock()
	if !ok || current != lostID || !c.inMIG(zone, mig, instance) {
		return
	}
	c.Nomad.RemoveNode(lostID)
	c.registerNode(zone, mig, instance)
}

func (c *Cluster) inMIG(zone, mig, instance string) bool {
	for _, in := range c.GCE.MIG(zone, mig).Instances {
		if in.Name == instance {
			return in.Status == "RUNNING"
		}
	}
	return false
}
