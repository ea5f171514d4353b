package override

import (
	"context"
	"errors"
	"fmt"

	"github.com/hashicorp/nomad/api"

	"github.com/fleetslope/nomad-gpu-autoscaler/internal/pluginkit"
)

// variables reads and writes the override Variable. Writes are
// check-and-set on the index read before, so two operators at once cannot
// overwrite each other unseen.
type variables interface {
	// Read returns the items and modify index of the Variable at path, or
	// nil items when it does not exist.
	Read(ctx context.Context, path string) (items map[string]string, index uint64, err error)
	// Write stores items at path if the Variable is still at index (0: if
	// it still does not exist).
	Write(ctx context.Context, path string, items map[string]string, index uint64) error
	// Delete removes the Variable at path if it is still at index.
	Delete(ctx context.Context, path string, index uint64) error
	// List returns the Variables under prefix, sorted by path.
	List(ctx context.Context, prefix string) ([]pluginkit.VariableVersion, error)
}

// errChanged is returned when the Variable changed between read and write.
var errChanged = errors.New("the Variable changed while this command ran (another operator?): run status and try again")

// nomadVariables implements variables with the Nomad API client.
type nomadVariables struct{ client *api.Client }

var _ variables = nomadVariables{}

// Read reads with a raw query (pluginkit.ReadVariableIndex): the client's
// Variables().Read answers a 403 (a token whose ACL lacks the path) as "not
// found", and an override must never be taken for absent because the token
// cannot see it.
func (n nomadVariables) Read(ctx context.Context, path string) (map[string]string, uint64, error) {
	return pluginkit.ReadVariableIndex(ctx, n.client, path, nil)
}

func (n nomadVariables) Write(ctx context.Context, path string, items map[string]string, index uint64) error {
	v := &api.Variable{Path: path, Items: items, ModifyIndex: index}
	q := (&api.WriteOptions{}).WithContext(ctx)
	var err error
	if index == 0 {
		_, _, err = n.client.Variables().CheckedCreate(v, q)
	} else {
		_, _, err = n.client.Variables().CheckedUpdate(v, q)
	}
	return casError("write nomad variable "+path, err)
}

func (n nomadVariables) Delete(ctx context.Context, path string, index uint64) error {
	_, err := n.client.Variables().CheckedDelete(path, index, (&api.WriteOptions{}).WithContext(ctx))
	return casError("delete nomad variable "+path, err)
}

func casError(what string, err error) error {
	var conflict api.ErrCASConflict
	switch {
	case err == nil:
		return nil
	case errors.As(err, &conflict):
		return fmt.Errorf("%s: %w", what, errChanged)
	default:
		return fmt.Errorf("%s: %w", what, err)
	}
}
