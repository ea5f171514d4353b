package syncbuf

import (
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/shoenig/test/must"
)

func TestConcurrentWritesAndReadsLoseNothing(t *testing.T) {
	var b Buffer
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for range 100 {
				fmt.Fprintf(&b, "%d\n", i)
				_ = b.String()
			}
		})
	}
	wg.Wait()
	must.Eq(t, 800, strings.Count(b.String(), "\n"))
}
