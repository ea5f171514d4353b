package pluginkit

import (
	"net/url"
	"regexp"
	"strings"
)

// The agent (policy/manager.go, isUnrecoverableError in v0.5.0) restarts
// every policy handler, losing their cooldowns, when an error from a plugin
// contains one of these substrings, because it takes them for a lost Nomad
// connection. An outage of RabbitMQ, PostgreSQL or GCE is not that, so these
// words never leave a plugin.
var agentRestartPhrases = []struct{ phrase, replacement string }{
	{"connection refused", "connection rejected"},
	{"EOF", "end of stream"},
}

var (
	// userinfoInURL matches the credentials of any URL in a message.
	userinfoInURL = regexp.MustCompile(`(?i)([a-z][a-z0-9+.-]*://)[^/@\s]*@`)
	// passwordSetting matches password=... in a key=value DSN.
	passwordSetting = regexp.MustCompile(`(?i)(password\s*=\s*)('[^']*'|\S+)`)
)

// Scrub makes a message safe to hand to the agent: no credentials, and
// none of the phrases that make the agent restart its policy handlers.
func Scrub(msg string) string {
	msg = userinfoInURL.ReplaceAllString(msg, "${1}")
	msg = passwordSetting.ReplaceAllString(msg, "${1}xxxxx")
	for _, p := range agentRestartPhrases {
		msg = strings.ReplaceAll(msg, p.phrase, p.replacement)
	}
	return msg
}

// RedactURL removes the userinfo from a URL for messages, also when the
// string does not parse as a URL.
func RedactURL(raw string) string {
	if u, err := url.Parse(raw); err == nil && u.User != nil {
		u.User = nil
		return u.String()
	}
	return userinfoInURL.ReplaceAllString(raw, "${1}")
}

// BoundaryError is the error the agent receives: the scrubbed text of the
// cause. The cause is kept, so errors.Is and errors.As work in the plugin
// and its tests.
type BoundaryError struct {
	msg   string
	cause error
}

func (e *BoundaryError) Error() string { return e.msg }

// Unwrap returns the error as the plugin produced it.
func (e *BoundaryError) Unwrap() error { return e.cause }

// AtBoundary makes err safe to return to the agent. An error whose text
// needs no change is returned as it is, so its type survives (the agent
// tests some errors by type when the plugin runs in process). Causes should
// already be put in the plugin's own words where they arise; this is the
// last line of defence.
func AtBoundary(err error) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	if safe := Scrub(msg); safe != msg {
		return &BoundaryError{msg: safe, cause: err}
	}
	return err
}

// HasRestartPhrase reports whether msg holds a phrase that makes the agent
// restart its policy handlers; tests assert that no error of theirs does.
func HasRestartPhrase(msg string) bool {
	for _, p := range agentRestartPhrases {
		if strings.Contains(msg, p.phrase) {
			return true
		}
	}
	return false
}
