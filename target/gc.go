package target

import (
	"math"
	"runtime/debug"
	"sync"
)

// Reading a module tree allocates a few hundred thousand symbols that all
// stay live. With the default GOGC the collector runs a cycle each time
// the heap doubles and scans that growing live set again and again, which
// costs as much as the parsing itself; a higher percentage while the tree
// is read lets the heap grow in fewer, larger steps (at most a few tens of
// megabytes more at its peak). A soft memory limit keeps the raise from
// multiplying the peak when several trees, or kernel images, are read at
// once: past it the collector runs as the default would.

const (
	loadGCPercent = 400
	loadMemLimit  = 1536 << 20
)

var gcBoost struct {
	mu    sync.Mutex
	n     int
	saved int
	limit int64
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
		gcBoost.limit = debug.SetMemoryLimit(-1)
		if gcBoost.limit == math.MaxInt64 {
			debug.SetMemoryLimit(loadMemLimit)
		}
	}
	gcBoost.n++
	gcBoost.mu.Unlock()
	return func() {
		gcBoost.mu.Lock()
		gcBoost.n--
		if gcBoost.n == 0 {
			debug.SetGCPercent(gcBoost.saved)
			debug.SetMemoryLimit(gcBoost.limit)
		}
		gcBoost.mu.Unlock()
	}
}
