package fakenomad

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strings"
)

// capSet is a set of capabilities. A set holding deny holds nothing else.
type capSet map[string]bool

// merge adds caps to the set; deny wins over everything, as in Nomad.
func (c capSet) merge(caps []string) {
	if c[capDeny] {
		return
	}
	if slices.Contains(caps, capDeny) {
		clear(c)
		c[capDeny] = true
		return
	}
	for _, k := range caps {
		c[k] = true
	}
}

// aclSet is what one token may do: the union of its policies (parsed in
// acl_policy.go), checked as Nomad checks them. A nil *aclSet means ACLs
// are off and everything is allowed.
type aclSet struct {
	management bool
	node       string // "", deny, read or write
	agent      string
	// namespaces maps a namespace rule (a name or a glob) to its capabilities.
	namespaces map[string]capSet
	// variables maps namespace rule + "\x00" + path rule to capabilities.
	variables map[string]capSet
}

func (a *aclSet) nodeRead() bool {
	return a == nil || a.management || a.node == "read" || a.node == "write"
}

func (a *aclSet) nodeWrite() bool { return a == nil || a.management || a.node == "write" }

func (a *aclSet) agentRead() bool {
	return a == nil || a.management || a.agent == "read" || a.agent == "write"
}

// allowNamespace reports whether the token holds capability in namespace.
func (a *aclSet) allowNamespace(namespace, capability string) bool {
	if a == nil || a.management {
		return true
	}
	caps, ok := closestRule(a.namespaces, namespace)
	return ok && caps[capability]
}

// allowVariable reports whether the token holds capability on the variable.
func (a *aclSet) allowVariable(namespace, path, capability string) bool {
	if a == nil || a.management {
		return true
	}
	caps, ok := closestRule(a.variables, namespace+"\x00"+strings.Trim(path, "/"))
	return ok && caps[capability]
}

// closestRule finds the rule for name as Nomad does: an exact rule wins;
// otherwise the matching glob with the fewest characters left to the
// wildcards, the first in sorted order on a tie.
func closestRule(rules map[string]capSet, name string) (capSet, bool) {
	if caps, ok := rules[name]; ok && !strings.Contains(name, "*") {
		return caps, true
	}
	keys := make([]string, 0, len(rules))
	for k := range rules {
		if strings.Contains(k, "*") {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	best, bestDiff := "", -1
	for _, k := range keys {
		if !globMatch(k, name) {
			continue
		}
		diff := len(name) - len(k) + strings.Count(k, "*")
		if bestDiff < 0 || diff < bestDiff {
			best, bestDiff = k, diff
		}
	}
	if bestDiff < 0 {
		return nil, false
	}
	return rules[best], true
}

// globMatch matches name against a pattern whose only special character
// is '*' (any run of characters, also none).
func globMatch(pattern, name string) bool {
	parts := strings.Split(pattern, "*")
	if len(parts) == 1 {
		return pattern == name
	}
	if !strings.HasPrefix(name, parts[0]) {
		return false
	}
	rest := name[len(parts[0]):]
	for _, p := range parts[1 : len(parts)-1] {
		i := strings.Index(rest, p)
		if i < 0 {
			return false
		}
		rest = rest[i+len(p):]
	}
	return strings.HasSuffix(rest, parts[len(parts)-1])
}

// AddACLToken registers a token whose permissions are the union of the
// given ACL policies, written in Nomad's HCL policy syntax, and turns ACL
// enforcement on. The empty secret ID sets the anonymous token's policies
// (requests without a token). A policy Nomad would refuse is refused.
func (s *Server) AddACLToken(secretID string, policies ...string) error {
	a, err := compileACL(policies)
	if err != nil {
		return fmt.Errorf("fakenomad: ACL policy: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tokensLocked()[secretID] = a
	return nil
}

// AddManagementToken registers a token that may do everything and turns
// ACL enforcement on.
func (s *Server) AddManagementToken(secretID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tokensLocked()[secretID] = &aclSet{management: true}
}

func (s *Server) tokensLocked() map[string]*aclSet {
	if s.tokens == nil {
		// Until a policy is given, an anonymous request may do nothing.
		s.tokens = map[string]*aclSet{"": {}}
	}
	return s.tokens
}

// resolveToken returns the permissions of the request's token (nil while
// ACLs are off), or the message Nomad answers 403 with.
func (s *Server) resolveToken(r *http.Request) (*aclSet, string) {
	secret := r.Header.Get("X-Nomad-Token")
	if secret == "" {
		secret, _ = strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.tokens == nil {
		return nil, ""
	}
	a, ok := s.tokens[secret]
	if !ok {
		return nil, "ACL token not found"
	}
	return a, ""
}

type aclKey struct{}

// aclOf returns the permissions guard stored in the request (nil while
// ACLs are off).
func aclOf(r *http.Request) *aclSet {
	a, _ := r.Context().Value(aclKey{}).(*aclSet)
	return a
}

// guard answers 403 unless the request's token passes allow (nil: any
// token), and hands the token's permissions to h for per-item checks.
func (s *Server) guard(allow func(*aclSet) bool, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		a, msg := s.resolveToken(r)
		if msg == "" && a != nil && allow != nil && !allow(a) {
			msg = errPermissionDenied
		}
		if msg != "" {
			writeError(w, http.StatusForbidden, msg)
			return
		}
		h(w, r.WithContext(context.WithValue(r.Context(), aclKey{}, a)))
	}
}

const errPermissionDenied = "Permission denied"
