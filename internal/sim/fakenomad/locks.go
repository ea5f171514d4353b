package fakenomad

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"time"

	"github.com/hashicorp/nomad/api"
)

// Variable locks, as Nomad (1.7+) serves them on PUT /v1/var/<path> with
// one of the query parameters lock-acquire, lock-renew or lock-release, and
// as github.com/hashicorp/nomad/api's Locks and LockLeaser (which
// nomad-autoscaler v0.5.0's high_availability block uses) call them:
//
//   - lock-acquire: body Variable{Path, Items?, Lock{TTL, LockDelay}}.
//     Creates the variable if missing (items replaced only when the body
//     has some), locks it under a new lock ID (the holder's session) and
//     answers the Variable with Lock{TTL, LockDelay, ID}. 409 with the
//     variable while it is locked (by anyone, the same ID included) or its
//     lock delay runs.
//   - lock-renew: body Variable{Lock{ID}}. Restarts the TTL and answers
//     VariableMetadata with the lock. 409 when the ID is not the holder's,
//     including after the TTL expired.
//   - lock-release: body Variable{Lock{ID}}, no items (400 otherwise).
//     Unlocks at once, without lock delay, and answers the variable
//     without its lock. 409 when the ID is not the holder's.
//   - A lock not renewed within its TTL expires: the variable stays, its
//     lock is gone and nobody can acquire it for LockDelay from the expiry.
//   - TTL and LockDelay must lie between 10s and 24h (400 otherwise, as
//     Nomad documents); an empty value takes the api package's default (15s).
//   - While locked, a plain PUT without the holder's lock ID in the body
//     and a DELETE answer 409 with the variable; a GET shows the lock
//     without its ID.
//
// The lock operations need the variables write capability on the path.

// Bounds Nomad puts on a lock's TTL and LockDelay.
const (
	minLockDuration = 10 * time.Second
	maxLockDuration = 24 * time.Hour
)

// Lock event kinds, recorded in Events with the variable's
// "namespace/path" as NodeName and the lock ID as Message.
const (
	EventLockAcquired EventKind = "lock-acquired"
	EventLockReleased EventKind = "lock-released"
	EventLockExpired  EventKind = "lock-expired"
)

// varLock is the lock state of one variable: held while id != "".
type varLock struct {
	id         string
	ttl, delay time.Duration
	expires    time.Time // when the holder's TTL runs out
	delayUntil time.Time // after an expiry, nobody acquires before this
}

// LockHolder returns the lock ID holding the variable now, and when its TTL
// runs out; "" when it is not locked.
func (s *Server) LockHolder(namespace, path string) (id string, expires time.Time) {
	s.mu.Lock()
	defer s.unlock()
	if l := s.lockLocked(varKey(namespace, path)); l != nil && l.id != "" {
		return l.id, l.expires
	}
	return "", time.Time{}
}

// lockLocked returns the variable's lock state with an expired TTL applied
// (nil when the variable was never locked).
func (s *Server) lockLocked(key string) *varLock {
	l := s.locks[key]
	if l == nil || l.id == "" {
		return l
	}
	if now := s.opts.Now(); !now.Before(l.expires) {
		s.lockEventLocked(EventLockExpired, key, l.id)
		l.delayUntil = l.expires.Add(l.delay)
		l.id = ""
		s.bumpLocked(tableVars)
	}
	return l
}

func (s *Server) lockEventLocked(kind EventKind, key, id string) {
	name := key
	if v, ok := s.vars[key]; ok {
		name = v.namespace + "/" + v.path
	}
	s.events = append(s.events, Event{Time: s.opts.Now(), Received: time.Now(), Kind: kind, NodeName: name, Message: id})
}

// view renders the lock for a response; withID only for the holder.
func (l *varLock) view(withID bool) *api.VariableLock {
	if l == nil || l.id == "" {
		return nil
	}
	out := &api.VariableLock{TTL: l.ttl.String(), LockDelay: l.delay.String()}
	if withID {
		out.ID = l.id
	}
	return out
}

// putVar routes PUT /v1/var/<path>: the lock operations, or a plain write
// that a lock held by someone else refuses.
func (s *Server) putVar(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	switch {
	case q.Has("lock-acquire"):
		s.lockOperation(w, r, s.acquireLocked)
	case q.Has("lock-renew"):
		s.lockOperation(w, r, s.renewLocked)
	case q.Has("lock-release"):
		s.lockOperation(w, r, s.releaseLocked)
	default:
		body, err := io.ReadAll(r.Body)
		if err != nil {
			writeError(w, http.StatusBadRequest, "invalid request body: "+err.Error())
			return
		}
		// writeVar decodes the body again and answers 400 when it is not a
		// variable; here only the lock ID matters.
		var in api.Variable
		_ = json.Unmarshal(body, &in)
		r.Body = io.NopCloser(bytes.NewReader(body))
		if s.refusedLockedWrite(w, r, in.LockID()) {
			return
		}
		s.writeVar(w, r)
	}
}

// deleteVarUnlessLocked routes DELETE /v1/var/<path>: a locked variable
// cannot be deleted.
func (s *Server) deleteVarUnlessLocked(w http.ResponseWriter, r *http.Request) {
	if s.refusedLockedWrite(w, r, "") {
		return
	}
	s.deleteVar(w, r)
}

// refusedLockedWrite answers 409 when the variable is locked under another
// ID than lockID, and reports whether it did.
func (s *Server) refusedLockedWrite(w http.ResponseWriter, r *http.Request, lockID string) bool {
	key := varKey(namespaceOf(r), r.PathValue("path"))
	s.mu.Lock()
	l := s.lockLocked(key)
	if l == nil || l.id == "" || l.id == lockID {
		s.unlock()
		return false
	}
	out, idx := s.conflictViewLocked(r, key), s.index
	s.unlock()
	writeConflict(w, idx, out)
	return true
}

// conflictViewLocked is the variable as a 409 shows it: its lock without
// the ID, and its items only to a token that may read them.
func (s *Server) conflictViewLocked(r *http.Request, key string) *api.Variable {
	out := &api.Variable{Namespace: namespaceOf(r), Path: r.PathValue("path")}
	if v, ok := s.vars[key]; ok {
		out = v.api()
		if !aclOf(r).allowVariable(v.namespace, v.path, varRead) {
			out.Items = nil
		}
	}
	out.Lock = s.locks[key].view(false)
	return out
}

// lockOp performs one lock operation with the server lock held. It returns
// the status to answer and the body (the conflicting variable on 409, an
// error message string otherwise when status is not 200).
type lockOp func(r *http.Request, key string, in *api.Variable) (int, any)

func (s *Server) lockOperation(w http.ResponseWriter, r *http.Request, op lockOp) {
	var in api.Variable
	if !decodeBody(w, r, &in) {
		return
	}
	if deniedVariable(w, r, namespaceOf(r), varWrite) {
		return
	}
	key := varKey(namespaceOf(r), r.PathValue("path"))
	s.mu.Lock()
	status, out := op(r, key, &in)
	idx := s.index
	s.unlock()
	switch status {
	case http.StatusOK:
		writeJSON(w, idx, out)
	case http.StatusConflict:
		writeConflict(w, idx, out.(*api.Variable))
	default:
		writeError(w, status, out.(string))
	}
}

func (s *Server) acquireLocked(r *http.Request, key string, in *api.Variable) (int, any) {
	ttl, delay := api.DefaultLockTTL, api.DefaultLockDelay
	if in.Lock != nil {
		var msg string
		if ttl, msg = lockDuration("TTL", in.Lock.TTL, ttl); msg != "" {
			return http.StatusBadRequest, msg
		}
		if delay, msg = lockDuration("LockDelay", in.Lock.LockDelay, delay); msg != "" {
			return http.StatusBadRequest, msg
		}
	}
	now := s.opts.Now()
	l := s.lockLocked(key)
	if l != nil && (l.id != "" || now.Before(l.delayUntil)) {
		return http.StatusConflict, s.conflictViewLocked(r, key)
	}
	v, exists := s.vars[key]
	switch {
	case !exists || len(in.Items) > 0:
		items := in.Items
		if exists && len(items) == 0 {
			items = v.items
		}
		v = s.putVarLocked(namespaceOf(r), r.PathValue("path"), items)
	default:
		v.modifyIndex, v.modifyTime = s.bumpLocked(tableVars), now.UnixNano()
	}
	if s.locks == nil {
		s.locks = map[string]*varLock{}
	}
	l = &varLock{id: s.nextIDLocked(), ttl: ttl, delay: delay, expires: now.Add(ttl)}
	s.locks[key] = l
	s.lockEventLocked(EventLockAcquired, key, l.id)
	out := v.api()
	out.Lock = l.view(true)
	return http.StatusOK, out
}

func (s *Server) renewLocked(r *http.Request, key string, in *api.Variable) (int, any) {
	l := s.lockLocked(key)
	if l == nil || l.id == "" || in.LockID() != l.id {
		return http.StatusConflict, s.conflictViewLocked(r, key)
	}
	l.expires = s.opts.Now().Add(l.ttl)
	v := s.vars[key]
	return http.StatusOK, &api.VariableMetadata{
		Namespace: v.namespace, Path: v.path,
		CreateIndex: v.createIndex, ModifyIndex: v.modifyIndex,
		CreateTime: v.createTime, ModifyTime: v.modifyTime,
		Lock: l.view(true),
	}
}

func (s *Server) releaseLocked(r *http.Request, key string, in *api.Variable) (int, any) {
	if len(in.Items) > 0 {
		return http.StatusBadRequest, "lock release: the request must not carry items"
	}
	l := s.lockLocked(key)
	if l == nil || l.id == "" || in.LockID() != l.id {
		return http.StatusConflict, s.conflictViewLocked(r, key)
	}
	s.lockEventLocked(EventLockReleased, key, l.id)
	delete(s.locks, key)
	v := s.vars[key]
	v.modifyIndex, v.modifyTime = s.bumpLocked(tableVars), s.opts.Now().UnixNano()
	return http.StatusOK, v.api()
}

// lockDuration parses a lock's TTL or LockDelay ("" is def) and checks
// Nomad's bounds; msg is the 400 message when it is invalid.
func lockDuration(field, value string, def time.Duration) (d time.Duration, msg string) {
	if value == "" {
		return def, ""
	}
	d, err := time.ParseDuration(value)
	if err != nil {
		return 0, "invalid lock " + field + " " + value + ": " + err.Error()
	}
	if d < minLockDuration || d > maxLockDuration {
		return 0, "lock " + field + " " + value + " must be between 10s and 24h"
	}
	return d, ""
}
