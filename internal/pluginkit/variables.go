package pluginkit

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/hashicorp/nomad/api"
)

// ReadVariable reads the items of the Nomad Variable at path. A variable
// that does not exist is not an error: items is nil. q carries the
// namespace and region; its context is replaced by ctx.
//
// It reads with a raw query because the client's Variables().Read and
// GetVariableItems answer a 403 (a token whose ACL lacks the path) as "not
// found": a missing permission would then look like "no variable", and an
// operator's override or a cooldown would be ignored silently instead of
// reported.
func ReadVariable(ctx context.Context, client *api.Client, path string, q *api.QueryOptions) (map[string]string, error) {
	items, _, err := ReadVariableIndex(ctx, client, path, q)
	return items, err
}

// ReadVariableIndex is ReadVariable that also returns the variable's modify
// index (0 when it does not exist), for a check-and-set write or to tell
// whether a listed variable changed since it was read.
func ReadVariableIndex(ctx context.Context, client *api.Client, path string, q *api.QueryOptions) (map[string]string, uint64, error) {
	if q == nil {
		q = &api.QueryOptions{}
	}
	var v api.Variable
	_, err := client.Raw().Query("/v1/var/"+strings.TrimPrefix(path, "/"), &v, q.WithContext(ctx))
	var ue api.UnexpectedResponseError
	if errors.As(err, &ue) && ue.StatusCode() == http.StatusNotFound {
		return nil, 0, nil
	}
	if err != nil {
		return nil, 0, fmt.Errorf("read nomad variable %s: %w", path, err)
	}
	if v.Items == nil {
		v.Items = map[string]string{}
	}
	return v.Items, v.ModifyIndex, nil
}

// VariableVersion is a listed variable: its path and modify index.
type VariableVersion struct {
	Path  string
	Index uint64
}

// ListVariables lists the variables whose path starts with prefix, sorted
// by path. Nomad leaves out the paths the token may not list, without an
// error. q carries the namespace and region; its context is replaced by ctx.
func ListVariables(ctx context.Context, client *api.Client, prefix string, q *api.QueryOptions) ([]VariableVersion, error) {
	if q == nil {
		q = &api.QueryOptions{}
	}
	q = q.WithContext(ctx)
	metas, _, err := client.Variables().PrefixList(strings.TrimPrefix(prefix, "/"), q)
	if err != nil {
		return nil, fmt.Errorf("list nomad variables under %s: %w", prefix, err)
	}
	out := make([]VariableVersion, 0, len(metas))
	for _, m := range metas {
		if m != nil {
			out = append(out, VariableVersion{Path: m.Path, Index: m.ModifyIndex})
		}
	}
	slices.SortFunc(out, func(a, b VariableVersion) int { return strings.Compare(a.Path, b.Path) })
	return out, nil
}
