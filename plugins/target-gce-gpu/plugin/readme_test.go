package plugin

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/shoenig/test/must"
)

// TestTheReadmeListsEveryPolicyTargetKey compares the README's table of
// policy target keys with the keys the parser accepts, so that a new key
// cannot ship undocumented and a removed one cannot stay documented.
func TestTheReadmeListsEveryPolicyTargetKey(t *testing.T) {
	t.Parallel()
	readme, err := os.ReadFile("../README.md")
	must.NoError(t, err)
	_, section, ok := strings.Cut(string(readme), "### Policy `target` block")
	must.True(t, ok, must.Sprint("the README has a policy target block section"))
	section, _, _ = strings.Cut(section, "\n## ")

	documented := map[string]bool{}
	keyCell := regexp.MustCompile(`^\| ([^|]+) \|`)
	quoted := regexp.MustCompile("`([^`]+)`")
	for _, line := range strings.Split(section, "\n") {
		m := keyCell.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		for _, k := range quoted.FindAllStringSubmatch(m[1], -1) {
			documented[k[1]] = true
		}
	}
	must.MapEq(t, targetKeys, documented)
}
