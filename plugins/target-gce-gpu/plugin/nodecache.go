package plugin

import (
	"sync"

	"github.com/hashicorp/nomad/api"
)

// nodeCache keeps the pool nodes PoolNodes has read, each with the
// ModifyIndex it was read at. Attributes and metadata are not in Nomad's
// node list, so without it every Status reads every pool node (2,001
// requests for 2,000 workers); Nomad bumps a node's ModifyIndex on every
// change to it (status, eligibility, drain, metadata) and the list carries
// that index, so a node whose index has not moved is served from here and
// only the nodes that changed are read again.
type nodeCache struct {
	mu    sync.Mutex
	nodes map[string]cachedNode
}

type cachedNode struct {
	modifyIndex uint64
	node        nomadNode
}

func newNodeCache() *nodeCache { return &nodeCache{nodes: map[string]cachedNode{}} }

// get returns the node read at exactly modifyIndex.
func (c *nodeCache) get(id string, modifyIndex uint64) (nomadNode, bool) {
	if c == nil {
		return nomadNode{}, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.nodes[id]
	if !ok || e.modifyIndex != modifyIndex {
		return nomadNode{}, false
	}
	return e.node, true
}

// put records a node read at modifyIndex (the read's own index, which may
// be newer than the list's).
func (c *nodeCache) put(id string, modifyIndex uint64, n nomadNode) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.nodes[id] = cachedNode{modifyIndex: modifyIndex, node: n}
}

// keepListed drops the nodes that are no longer in the cluster's node list
// (purged or garbage collected). It takes the whole list, not one pool's
// members, so that policies of different pools do not evict each other.
func (c *nodeCache) keepListed(stubs []*api.NodeListStub) {
	if c == nil {
		return
	}
	listed := make(map[string]bool, len(stubs))
	for _, s := range stubs {
		listed[s.ID] = true
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for id := range c.nodes {
		if !listed[id] {
			delete(c.nodes, id)
		}
	}
}
