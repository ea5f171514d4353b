package fakenomad

import (
	"encoding/json"
	"maps"
	"net/http"
	"sort"
	"strconv"
	"strings"

	"github.com/hashicorp/nomad/api"
)

type variable struct {
	namespace   string
	path        string
	items       map[string]string
	createIndex uint64
	modifyIndex uint64
	createTime  int64
	modifyTime  int64
}

// defaultNamespace is Nomad's namespace for requests that name none.
const defaultNamespace = "default"

func varKey(namespace, path string) string {
	if namespace == "" {
		namespace = defaultNamespace
	}
	return namespace + "\x00" + strings.Trim(path, " /")
}

// SetVariable creates or replaces a variable.
func (s *Server) SetVariable(namespace, path string, items map[string]string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.putVarLocked(namespace, path, items)
}

// DeleteVariable removes a variable if it exists.
func (s *Server) DeleteVariable(namespace, path string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.vars[varKey(namespace, path)]; ok {
		delete(s.vars, varKey(namespace, path))
		s.bumpLocked(tableVars)
	}
}

// Variable returns a copy of a variable's items.
func (s *Server) Variable(namespace, path string) (map[string]string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.vars[varKey(namespace, path)]
	if !ok {
		return nil, false
	}
	return maps.Clone(v.items), true
}

func (s *Server) putVarLocked(namespace, path string, items map[string]string) *variable {
	if namespace == "" {
		namespace = defaultNamespace
	}
	idx := s.bumpLocked(tableVars)
	now := s.opts.Now().UnixNano()
	k := varKey(namespace, path)
	v, ok := s.vars[k]
	if !ok {
		v = &variable{namespace: namespace, path: strings.Trim(path, " /"), createIndex: idx, createTime: now}
		s.vars[k] = v
	}
	v.items, v.modifyIndex, v.modifyTime = maps.Clone(items), idx, now
	return v
}

func (v *variable) api() *api.Variable {
	return &api.Variable{
		Namespace: v.namespace, Path: v.path, Items: maps.Clone(v.items),
		CreateIndex: v.createIndex, ModifyIndex: v.modifyIndex,
		CreateTime: v.createTime, ModifyTime: v.modifyTime,
	}
}

func namespaceOf(r *http.Request) string {
	if ns := r.URL.Query().Get("namespace"); ns != "" {
		return ns
	}
	return defaultNamespace
}

// deniedVariable answers 403 unless the request's token holds capability
// on the variable, and reports whether it did. Nomad checks before looking
// the variable up, so a missing variable is 403 too.
func deniedVariable(w http.ResponseWriter, r *http.Request, namespace, capability string) bool {
	if aclOf(r).allowVariable(namespace, r.PathValue("path"), capability) {
		return false
	}
	writeError(w, http.StatusForbidden, errPermissionDenied)
	return true
}

func (s *Server) readVar(w http.ResponseWriter, r *http.Request) {
	if deniedVariable(w, r, namespaceOf(r), varRead) {
		return
	}
	idx := s.waitFor(r, tableVars)
	s.mu.Lock()
	v, ok := s.vars[varKey(namespaceOf(r), r.PathValue("path"))]
	var out *api.Variable
	if ok {
		out = v.api()
		out.Lock = s.lockLocked(varKey(v.namespace, v.path)).view(false)
	}
	s.mu.Unlock()
	if !ok {
		w.Header().Set("X-Nomad-Index", strconv.FormatUint(idx, 10))
		writeError(w, http.StatusNotFound, "variable not found")
		return
	}
	writeJSON(w, idx, out)
}

func (s *Server) writeVar(w http.ResponseWriter, r *http.Request) {
	var in api.Variable
	if !decodeBody(w, r, &in) {
		return
	}
	ns := r.URL.Query().Get("namespace")
	if ns == "" {
		ns = in.Namespace
	}
	if ns == "" {
		ns = defaultNamespace
	}
	if deniedVariable(w, r, ns, varWrite) {
		return
	}
	path := r.PathValue("path")
	s.mu.Lock()
	cur, exists := s.vars[varKey(ns, path)]
	if casStr, ok := r.URL.Query()["cas"]; ok {
		cas, _ := strconv.ParseUint(casStr[0], 10, 64)
		if (cas == 0 && exists) || (cas != 0 && (!exists || cur.modifyIndex != cas)) {
			conflict := &api.Variable{}
			if exists {
				conflict = cur.api()
			}
			idx := s.index
			s.mu.Unlock()
			writeConflict(w, idx, conflict)
			return
		}
	}
	out := s.putVarLocked(ns, path, in.Items).api()
	idx := s.index
	s.mu.Unlock()
	writeJSON(w, idx, out)
}

// writeConflict answers a failed check-and-set with 409 and the variable as
// it stands, which the client returns as the conflict.
func writeConflict(w http.ResponseWriter, index uint64, current *api.Variable) {
	w.Header().Set("X-Nomad-Index", strconv.FormatUint(index, 10))
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusConflict)
	_ = json.NewEncoder(w).Encode(current)
}

func (s *Server) deleteVar(w http.ResponseWriter, r *http.Request) {
	if deniedVariable(w, r, namespaceOf(r), varDestroy) {
		return
	}
	k := varKey(namespaceOf(r), r.PathValue("path"))
	s.mu.Lock()
	cur, exists := s.vars[k]
	if casStr, ok := r.URL.Query()["cas"]; ok {
		cas, _ := strconv.ParseUint(casStr[0], 10, 64)
		if exists && cur.modifyIndex != cas {
			out := cur.api()
			idx := s.index
			s.mu.Unlock()
			writeConflict(w, idx, out)
			return
		}
	}
	if exists {
		delete(s.vars, k)
		s.bumpLocked(tableVars)
	}
	idx := s.index
	s.mu.Unlock()
	w.Header().Set("X-Nomad-Index", strconv.FormatUint(idx, 10))
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) listVars(w http.ResponseWriter, r *http.Request) {
	idx := s.waitFor(r, tableVars)
	ns, prefix := namespaceOf(r), r.URL.Query().Get("prefix")
	acl := aclOf(r)
	s.mu.Lock()
	out := []*api.VariableMetadata{}
	for _, v := range s.vars {
		if (ns == "*" || v.namespace == ns) && strings.HasPrefix(v.path, prefix) &&
			acl.allowVariable(v.namespace, v.path, varList) {
			out = append(out, &api.VariableMetadata{
				Namespace: v.namespace, Path: v.path,
				CreateIndex: v.createIndex, ModifyIndex: v.modifyIndex,
				CreateTime: v.createTime, ModifyTime: v.modifyTime,
			})
		}
	}
	s.mu.Unlock()
	sort.Slice(out, func(i, j int) bool {
		if out[i].Namespace != out[j].Namespace {
			return out[i].Namespace < out[j].Namespace
		}
		return out[i].Path < out[j].Path
	})
	writeJSON(w, idx, out)
}

func (s *Server) readMeta(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	n, ok := s.nodes[r.URL.Query().Get("node_id")]
	var out api.NodeMetaResponse
	if ok {
		out = metaResponse(n)
	}
	idx := s.index
	s.mu.Unlock()
	if !ok {
		writeError(w, http.StatusNotFound, "node not found")
		return
	}
	writeJSON(w, idx, out)
}

func (s *Server) applyMeta(w http.ResponseWriter, r *http.Request) {
	var req api.NodeMetaApplyRequest
	if !decodeBody(w, r, &req) {
		return
	}
	n, ok := s.lockNode(w, req.NodeID)
	if !ok {
		return
	}
	for k, v := range req.Meta {
		if v == nil {
			delete(n.dynMeta, k)
			continue
		}
		n.dynMeta[k] = *v
	}
	idx := s.bumpLocked(tableNodes)
	n.modifyIndex = idx
	out := metaResponse(n)
	s.mu.Unlock()
	writeJSON(w, idx, out)
}

func metaResponse(n *node) api.NodeMetaResponse {
	dyn := map[string]*string{}
	for k, v := range n.dynMeta {
		dyn[k] = &v
	}
	static := maps.Clone(n.spec.Meta)
	if static == nil {
		static = map[string]string{}
	}
	return api.NodeMetaResponse{Meta: n.mergedMeta(), Dynamic: dyn, Static: static}
}
