package target

import (
	"runtime/debug"
	"sync"
)

// Reading a module tree allocates a few hundred thousand symbols that all
// stay live. With the default GOGC the collector runs a cycle each time
// the heap doubles and scans that growing live set again and again, which
// costs as much as the parsing itself; a higher percentage while the tree
// is read lets the heap grow in fewer, larger steps (at most a few tens of
// megabytes more at its peak).

const loadGCPercent = 400

var gcBoost struct {
	mu    sync.Mutex
	n     int
	saved int
}

// boostGC raises the GC percentage (unless GOGC is off or already higher)
// until the returned function is called. Nested and concurrent loads
// share one raise: the last to finish restores the setting.
func boostGC() func() {
	gcBoost.mu.Lock()
	if gcBoost.n == 0 {
		gcBoost.saved = debug.SetGCPercent(loadGCPercent)
		if gcBoost.saved < 0 || gcBoost.saved > loadGCPercent {
			debug.SetGCPercent(gcBoost.saved)
		}
	}
	gcBoost.n++
	gcBoost.mu.Unlock()
	return func() {
		gcBoost.mu.Lock()
		gcBoost.n--
		if gcBoost.n == 0 {
			debug.SetGCPercent(gcBoost.saved)
		}
		gcBoost.mu.Unlock()
	}
}
