package pluginkit

import (
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
)

// Kind is the form of a key's value, which sets how Parser reads it and
// what its error says.
type Kind int

// The kinds of value a key may hold. Text is read by the plugin itself
// (URLs, lists, names); the others are parsed and bounded by Parser.
const (
	Text Kind = iota
	Duration
	Float
	Int
	Bool
)

// Key is one row of a config table.
type Key struct {
	Name string
	Kind Kind
	// Default is the value an absent key takes, in the key's own syntax
	// ("5m", "0.99", "true"); empty means none (the key is unset).
	Default string
	// Min and Max bound Duration, Float and Int values, in the key's
	// syntax; empty means unbounded on that side.
	Min, Max string
	// Required keys must be present.
	Required bool
	// Secret keys hold a password, a key or a URL or DSN that may carry
	// one: their errors never show the value.
	Secret bool
	// Doc is a one-line description, for errors and generated docs.
	Doc string
}

// Table is a plugin's configuration keys: the one place a key, its
// default, its bounds and its meaning are written.
type Table struct {
	// Keys are the fixed keys.
	Keys []Key
	// Prefixes are families of keys an operator names (sql.<name>).
	Prefixes []string
	// AgentKeys: the table also accepts the keys the agent merges into
	// every plugin's config (AgentNomadKeys and the _nomad_autoscaler_
	// prefix). True for agent-level plugin blocks.
	AgentKeys bool
	// UnknownHint is added to the unknown-key error (where such keys go).
	UnknownHint string

	// index maps a name to its position in Keys, built on first use:
	// a parse looks every key up.
	index atomic.Pointer[map[string]int]
}

// AgentNomadKeys are the agent's Nomad connection keys, merged into every
// plugin's agent-level config unless nomad_config_inherit = "false"
// (sdk/helper/nomad.MergeMapWithAgentConfig and
// plugins.ConfigKeyNomadConfigInherit in nomad-autoscaler v0.5.0).
var AgentNomadKeys = []string{
	"nomad_config_inherit",
	"nomad_address", "nomad_region", "nomad_namespace", "nomad_token",
	"nomad_http-auth", "nomad_ca-cert", "nomad_ca-path", "nomad_client-cert",
	"nomad_client-key", "nomad_tls-server-name", "nomad_skip-verify",
	"nomad_block-query-wait-time",
}

// AgentKeyPrefix marks the keys the agent adds for its own use, such as
// plugins/shared.PluginConfigKeyGRPCTimeout ("_nomad_autoscaler_grpc_timeout").
const AgentKeyPrefix = "_nomad_autoscaler_"

// IsAgentKey reports whether the agent, not the operator's block, may have
// put k into a config.
func IsAgentKey(k string) bool {
	return strings.HasPrefix(k, AgentKeyPrefix) || slices.Contains(AgentNomadKeys, k)
}

// OwnKeys returns m without the keys the agent adds, so that two configs
// can be compared by what the operator wrote.
func OwnKeys(m map[string]string) map[string]string {
	own := make(map[string]string, len(m))
	for k, v := range m {
		if !IsAgentKey(k) {
			own[k] = v
		}
	}
	return own
}

// Key returns the row of name; ok is false for a key the table lacks.
func (t *Table) Key(name string) (Key, bool) {
	idx := t.index.Load()
	if idx == nil {
		m := make(map[string]int, len(t.Keys))
		for i := len(t.Keys) - 1; i >= 0; i-- { // the first of duplicates wins
			m[t.Keys[i].Name] = i
		}
		idx = &m
		t.index.Store(idx)
	}
	i, ok := (*idx)[name]
	if !ok {
		return Key{}, false
	}
	return t.Keys[i], true
}

// Names lists the fixed keys in table order.
func (t *Table) Names() []string {
	names := make([]string, len(t.Keys))
	for i, k := range t.Keys {
		names[i] = k.Name
	}
	return names
}

// Accepts reports whether a config may hold k.
func (t *Table) Accepts(k string) bool {
	if _, ok := t.Key(k); ok {
		return true
	}
	for _, p := range t.Prefixes {
		// The plugin checks the rest of the name (it may be empty or
		// malformed: its error then says so better than "unknown key").
		if strings.HasPrefix(k, p) {
			return true
		}
	}
	return t.AgentKeys && IsAgentKey(k)
}

// Unknown returns one error per key of m the table does not accept, in key
// order. It names the key only: the value may be a secret typed into the
// wrong key.
func (t *Table) Unknown(m map[string]string) []error {
	var errs []error
	for _, k := range sortedKeys(m) {
		if !t.Accepts(k) {
			msg := fmt.Sprintf("unknown key %q", k)
			if t.UnknownHint != "" {
				msg += " (" + t.UnknownHint + ")"
			}
			errs = append(errs, fmt.Errorf("%s", msg))
		}
	}
	return errs
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
