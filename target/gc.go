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
//
// A cold walk of a modules folder goes further and turns the collector
// off (pauseGC): it keeps each module's symbols compact and recycles its
// read buffers, so a whole Debian tree allocates about 50 MB, nearly all
// of it kept, and a collection would find almost nothing to free. The
// soft limit still holds, so a huge tree, or many read at once, collects
// again past it.

const (
	loadGCPercent = 400
	loadMemLimit  = 1536 << 20
)

var gcBoost struct {
	mu     sync.Mutex
	n      int
	paused int
	saved  int
	limit  int64
}

// boostGC raises the GC percentage (unless GOGC is off or already higher)
// until the returned function is called. Nested and concurrent loads
// share one raise: the last to finish restores the setting.
func boostGC() func() { return adjustGC(false) }

// pauseGC is boostGC that also turns the collector off, under the soft
// memory limit, until the returned function is called.
func pauseGC() func() { return adjustGC(true) }

func adjustGC(pause bool) func() {
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
	if pause {
		if gcBoost.paused == 0 && debug.SetMemoryLimit(-1) != math.MaxInt64 {
			debug.SetGCPercent(-1)
		}
		gcBoost.paused++
	}
	gcBoost.mu.Unlock()
	return func() {
		gcBoost.mu.Lock()
		if pause {
			gcBoost.paused--
			if gcBoost.paused == 0 {
				if gcBoost.saved < 0 || gcBoost.saved > loadGCPercent {
					debug.SetGCPercent(gcBoost.saved)
				} else {
					debug.SetGCPercent(loadGCPercent)
				}
			}
		}
		gcBoost.n--
		if gcBoost.n == 0 {
			debug.SetGCPercent(gcBoost.saved)
			debug.SetMemoryLimit(gcBoost.limit)
		}
		gcBoost.mu.Unlock()
	}
}
