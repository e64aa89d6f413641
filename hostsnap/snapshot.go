// Package hostsnap records and reads host snapshots: what a running machine
// has loaded, as klpc needs it to plan the next deployment step there. A
// snapshot holds uname -r, every patch of /sys/kernel/livepatch (enabled,
// transition, replace and stack_order where the kernel line has them, every
// object with its patched flag and function directories) and every module
// of /proc/modules with the srcversion, version and taint /sys/module shows.
//
// Capture reads them from a live system; scripts/klpc-snapshot.sh writes the
// same JSON with nothing but a POSIX shell (busybox is enough). Read parses
// a snapshot strictly, as untrusted input, through internal/safeio.
package hostsnap

import (
	"sort"
)

// Format is the snapshot format this package writes and reads.
const Format = 1

// Snapshot is one host's state.
type Snapshot struct {
	// Format is always Format.
	Format int `json:"format"`
	// Kernel is uname -r (/proc/sys/kernel/osrelease).
	Kernel string `json:"kernel"`
	// Livepatches lists /sys/kernel/livepatch, by name.
	Livepatches []Patch `json:"livepatches"`
	// Modules lists /proc/modules in its order: the most recently loaded
	// module first (load_module adds each at the head of the list).
	Modules []Module `json:"modules"`
}

// Patch is one /sys/kernel/livepatch/<patch> directory (core.c's
// klp_patch_attrs: enabled and transition on every line, replace from 6.12,
// stack_order from 7.x).
type Patch struct {
	Name       string `json:"name"`
	Enabled    bool   `json:"enabled"`
	Transition bool   `json:"transition"`
	// Replace is nil where the kernel has no replace attribute (6.1).
	Replace *bool `json:"replace,omitempty"`
	// StackOrder is 0 where the kernel has no stack_order attribute.
	StackOrder int      `json:"stack_order,omitempty"`
	Objects    []Object `json:"objects"`
}

// Object is /sys/kernel/livepatch/<patch>/<object>.
type Object struct {
	Name    string `json:"name"`
	Patched bool   `json:"patched"`
	// Funcs are the function directories, "name,sympos".
	Funcs []string `json:"funcs"`
}

// Module is one line of /proc/modules with what /sys/module/<name> adds.
type Module struct {
	Name string `json:"name"`
	// Srcversion is /sys/module/<name>/srcversion; empty when the module
	// has none (no MODULE_VERSION and no CONFIG_MODULE_SRCVERSION_ALL).
	Srcversion string `json:"srcversion,omitempty"`
	// Version is /sys/module/<name>/version (MODULE_VERSION); klpc's
	// livepatch modules carry "klpc <release> <manifest hash>" there.
	Version string `json:"version,omitempty"`
	// Taint is /sys/module/<name>/taint, the module's taint letters.
	Taint string `json:"taint,omitempty"`
}

// Livepatch returns the patch of that name, or nil.
func (s *Snapshot) Livepatch(name string) *Patch {
	for i := range s.Livepatches {
		if s.Livepatches[i].Name == name {
			return &s.Livepatches[i]
		}
	}
	return nil
}

// Module returns the module of that name, or nil.
func (s *Snapshot) Module(name string) *Module {
	for i := range s.Modules {
		if s.Modules[i].Name == name {
			return &s.Modules[i]
		}
	}
	return nil
}

// Canonical sorts every list into the order Capture and the shell script
// write: patches by stack_order when the kernel shows it, else by name;
// objects and functions by name. Modules keep the /proc/modules order
// (newest first), which gives the load order on lines without stack_order.
func (s *Snapshot) Canonical() {
	sort.SliceStable(s.Livepatches, func(i, j int) bool {
		a, b := s.Livepatches[i], s.Livepatches[j]
		if a.StackOrder != b.StackOrder {
			return a.StackOrder < b.StackOrder
		}
		return a.Name < b.Name
	})
	for i := range s.Livepatches {
		p := &s.Livepatches[i]
		if p.Objects == nil {
			p.Objects = []Object{}
		}
		sort.SliceStable(p.Objects, func(i, j int) bool { return p.Objects[i].Name < p.Objects[j].Name })
		for k := range p.Objects {
			if p.Objects[k].Funcs == nil {
				p.Objects[k].Funcs = []string{}
			}
			sort.Strings(p.Objects[k].Funcs)
		}
	}
	if s.Livepatches == nil {
		s.Livepatches = []Patch{}
	}
	if s.Modules == nil {
		s.Modules = []Module{}
	}
}
