package fakenomad

import (
	"encoding/json"
	"net/http"
	"sort"
	"strings"

	"github.com/hashicorp/nomad/api"
)

// routes maps the Nomad API paths the fake implements to their handlers.
// Each route names the ACL it needs as Nomad does (nodeRead, nodeWrite,
// agentRead; nil when any token will do and the handler checks namespaces
// or variable paths itself).
func (s *Server) routes() http.Handler {
	nodeRead, nodeWrite, agentRead := (*aclSet).nodeRead, (*aclSet).nodeWrite, (*aclSet).agentRead
	m := http.NewServeMux()
	m.HandleFunc("GET /v1/nodes", s.guard(nodeRead, s.listNodes))
	m.HandleFunc("GET /v1/node/{id}", s.guard(nodeRead, s.nodeInfo))
	m.HandleFunc("GET /v1/node/{id}/allocations", s.guard(nodeRead, s.nodeAllocations))
	m.HandleFunc("PUT /v1/node/{id}/drain", s.guard(nodeWrite, s.updateDrain))
	m.HandleFunc("POST /v1/node/{id}/drain", s.guard(nodeWrite, s.updateDrain))
	m.HandleFunc("PUT /v1/node/{id}/eligibility", s.guard(nodeWrite, s.nodeEligibility))
	m.HandleFunc("POST /v1/node/{id}/eligibility", s.guard(nodeWrite, s.nodeEligibility))
	m.HandleFunc("PUT /v1/node/{id}/purge", s.guard(nodeWrite, s.nodePurge))
	m.HandleFunc("POST /v1/node/{id}/purge", s.guard(nodeWrite, s.nodePurge))
	m.HandleFunc("GET /v1/client/metadata", s.guard(nodeRead, s.readMeta))
	m.HandleFunc("POST /v1/client/metadata", s.guard(nodeWrite, s.applyMeta))
	m.HandleFunc("GET /v1/allocation/{id}", s.guard(nil, s.allocInfo))
	m.HandleFunc("GET /v1/allocations", s.guard(nil, s.listAllocs))
	m.HandleFunc("GET /v1/var/{path...}", s.guard(nil, s.readVar))
	m.HandleFunc("PUT /v1/var/{path...}", s.guard(nil, s.putVar))
	m.HandleFunc("DELETE /v1/var/{path...}", s.guard(nil, s.deleteVarUnlessLocked))
	m.HandleFunc("GET /v1/vars", s.guard(nil, s.listVars))
	m.HandleFunc("GET /v1/status/leader", s.statusLeader)
	m.HandleFunc("GET /v1/agent/self", s.guard(agentRead, s.agentSelf))
	return m
}

func (s *Server) listNodes(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if q.Get("filter") != "" {
		writeError(w, http.StatusBadRequest, "fakenomad: filter expressions are not supported")
		return
	}
	idx := s.waitFor(r, tableNodes)
	prefix := q.Get("prefix")
	withRes, withOS := q.Get("resources") == "true", q.Get("os") == "true"
	s.mu.Lock()
	out := make([]*api.NodeListStub, 0, len(s.nodes))
	for _, n := range s.nodes {
		if strings.HasPrefix(n.id, prefix) {
			out = append(out, s.apiStub(n, withRes, withOS))
		}
	}
	s.mu.Unlock()
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	writeJSON(w, idx, out)
}

// failedDrainLocked returns the injected failure message when a blocking
// query watches a node whose drain was made to fail.
func (s *Server) failedDrainLocked(r *http.Request, id string) string {
	if r.URL.Query().Get("index") == "" || r.URL.Query().Get("index") == "0" {
		return ""
	}
	if n, ok := s.nodes[id]; ok && n.drain != nil {
		return n.drain.failMsg
	}
	return ""
}

// answeredFailedDrain answers 500 with the injected failure when a blocking
// query watches a node whose drain was made to fail, and reports whether it
// did.
func (s *Server) answeredFailedDrain(w http.ResponseWriter, r *http.Request, id string) bool {
	s.mu.Lock()
	msg := s.failedDrainLocked(r, id)
	s.mu.Unlock()
	if msg == "" {
		return false
	}
	writeError(w, http.StatusInternalServerError, msg)
	return true
}

// writeFound waits like a blocking query on table, then answers the item
// with that id rendered under the lock, or 404 with notFound. The maps are
// made once in New and never replaced, so reading them here is safe.
func writeFound[T, V any](s *Server, w http.ResponseWriter, r *http.Request, table string,
	items map[string]*T, id string, render func(*T) V, notFound string) {
	idx := s.waitFor(r, table)
	s.mu.Lock()
	item, ok := items[id]
	var out V
	if ok {
		out = render(item)
	}
	s.mu.Unlock()
	if !ok {
		writeError(w, http.StatusNotFound, notFound)
		return
	}
	writeJSON(w, idx, out)
}

func (s *Server) nodeInfo(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if s.answeredFailedDrain(w, r, id) {
		return
	}
	writeFound(s, w, r, tableNodes, s.nodes, id, s.apiNode, "node not found")
}

func (s *Server) nodeAllocations(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if s.answeredFailedDrain(w, r, id) {
		return
	}
	s.mu.Lock()
	_, ok := s.nodes[id]
	s.mu.Unlock()
	if !ok {
		writeError(w, http.StatusNotFound, "node not found")
		return
	}
	idx := s.waitFor(r, tableAllocs)
	// As in Nomad, the namespace parameter is ignored: the answer holds the
	// allocations of every namespace where the token has read-job, and
	// leaves the others out without an error.
	acl := aclOf(r)
	s.mu.Lock()
	out := []*api.Allocation{}
	for _, a := range s.nodeAllocsLocked(id) {
		if acl.allowNamespace(a.spec.Namespace, capReadJob) {
			out = append(out, s.apiAlloc(a))
		}
	}
	s.mu.Unlock()
	writeJSON(w, idx, out)
}

// lockNode takes the lock and finds the node, answering 404 (and releasing
// the lock) when it does not exist.
func (s *Server) lockNode(w http.ResponseWriter, id string) (*node, bool) {
	s.mu.Lock()
	n, ok := s.nodes[id]
	if !ok {
		s.mu.Unlock()
		writeError(w, http.StatusNotFound, "node not found")
	}
	return n, ok
}

// decodeBody reads a JSON request body into v, answering 400 on failure.
func decodeBody(w http.ResponseWriter, r *http.Request, v any) bool {
	if err := json.NewDecoder(r.Body).Decode(v); err != nil {
		writeError(w, http.StatusBadRequest, "invalid request body: "+err.Error())
		return false
	}
	return true
}

func (s *Server) updateDrain(w http.ResponseWriter, r *http.Request) {
	var req api.NodeUpdateDrainRequest
	if !decodeBody(w, r, &req) {
		return
	}
	n, ok := s.lockNode(w, r.PathValue("id"))
	if !ok {
		return
	}
	if req.DrainSpec != nil {
		s.startDrainLocked(n, *req.DrainSpec, req.Meta)
	} else {
		s.cancelDrainLocked(n, req.MarkEligible)
	}
	idx := s.index
	s.mu.Unlock()
	writeJSON(w, idx, api.NodeDrainUpdateResponse{NodeModifyIndex: idx, EvalIDs: []string{}, EvalCreateIndex: idx})
}

func (s *Server) nodeEligibility(w http.ResponseWriter, r *http.Request) {
	var req api.NodeUpdateEligibilityRequest
	if !decodeBody(w, r, &req) {
		return
	}
	if req.Eligibility != api.NodeSchedulingEligible && req.Eligibility != api.NodeSchedulingIneligible {
		writeError(w, http.StatusBadRequest, "invalid scheduling eligibility \""+req.Eligibility+"\"")
		return
	}
	n, ok := s.lockNode(w, r.PathValue("id"))
	if !ok {
		return
	}
	if n.drain != nil && req.Eligibility == api.NodeSchedulingEligible {
		s.mu.Unlock()
		writeError(w, http.StatusInternalServerError,
			"can not set node's scheduling eligibility to eligible while it is draining")
		return
	}
	n.eligibility = req.Eligibility
	idx := s.bumpLocked(tableNodes)
	n.modifyIndex = idx
	s.mu.Unlock()
	writeJSON(w, idx, api.NodeEligibilityUpdateResponse{NodeModifyIndex: idx, EvalIDs: []string{}})
}

func (s *Server) nodePurge(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	ok := s.removeNodeLocked(r.PathValue("id"))
	idx := s.index
	s.mu.Unlock()
	if !ok {
		writeError(w, http.StatusNotFound, "node not found")
		return
	}
	writeJSON(w, idx, api.NodePurgeResponse{EvalIDs: []string{}, NodeModifyIndex: idx})
}

func (s *Server) allocInfo(w http.ResponseWriter, r *http.Request) {
	acl := aclOf(r)
	s.mu.Lock()
	a, ok := s.allocs[r.PathValue("id")]
	denied := ok && !acl.allowNamespace(a.spec.Namespace, capReadJob)
	s.mu.Unlock()
	if denied {
		writeError(w, http.StatusForbidden, errPermissionDenied)
		return
	}
	writeFound(s, w, r, tableAllocs, s.allocs, r.PathValue("id"), s.apiAlloc, "alloc not found")
}

// listAllocs lists the allocations of the request's namespace (default
// "default"), or of every namespace the token may read with "*".
func (s *Server) listAllocs(w http.ResponseWriter, r *http.Request) {
	ns, acl := namespaceOf(r), aclOf(r)
	if ns != "*" && !acl.allowNamespace(ns, capReadJob) {
		writeError(w, http.StatusForbidden, errPermissionDenied)
		return
	}
	idx := s.waitFor(r, tableAllocs)
	s.mu.Lock()
	out := make([]*api.AllocationListStub, 0, len(s.allocs))
	for _, a := range s.allocs {
		if (ns != "*" && a.spec.Namespace != ns) || !acl.allowNamespace(a.spec.Namespace, capReadJob) {
			continue
		}
		full := s.apiAlloc(a)
		out = append(out, &api.AllocationListStub{
			ID: full.ID, Namespace: full.Namespace, Name: full.Name, NodeID: full.NodeID,
			NodeName: full.NodeName, JobID: full.JobID, JobType: a.spec.JobType, TaskGroup: full.TaskGroup,
			DesiredStatus: full.DesiredStatus, ClientStatus: full.ClientStatus,
			CreateIndex: full.CreateIndex, ModifyIndex: full.ModifyIndex,
			CreateTime: full.CreateTime, ModifyTime: full.ModifyTime,
		})
	}
	s.mu.Unlock()
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	writeJSON(w, idx, out)
}

func (s *Server) statusLeader(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, s.currentIndex(), "127.0.0.1:4647")
}

func (s *Server) agentSelf(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, s.currentIndex(), map[string]any{
		"config": map[string]any{"Region": "global", "Datacenter": "dc1", "Version": map[string]string{"Version": "1.10.0"}},
		"member": map[string]any{"Name": "fakenomad", "Addr": "127.0.0.1", "Status": "alive"},
		"stats":  map[string]any{},
	})
}

func (s *Server) currentIndex() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.index
}
