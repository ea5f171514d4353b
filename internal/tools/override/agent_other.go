//go:build !unix

package override

import "errors"

var errNoSignals = errors.New("-policy-file: editing a policy file needs a Unix system to signal the agent; use -policy and its Nomad Variable")

type systemAgent struct{}

func (systemAgent) Check(int) error  { return errNoSignals }
func (systemAgent) Reload(int) error { return errNoSignals }

func lockDir(string) (func(), error) { return nil, errNoSignals }
