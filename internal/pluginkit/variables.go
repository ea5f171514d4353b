package pluginkit

import (
	"context"
	"errors"
	"fmt"
	"net/http"
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
	if q == nil {
		q = &api.QueryOptions{}
	}
	var v api.Variable
	_, err := client.Raw().Query("/v1/var/"+strings.TrimPrefix(path, "/"), &v, q.WithContext(ctx))
	var ue api.UnexpectedResponseError
	if errors.As(err, &ue) && ue.StatusCode() == http.StatusNotFound {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read nomad variable %s: %w", path, err)
	}
	if v.Items == nil {
		return map[string]string{}, nil
	}
	return v.Items, nil
}
