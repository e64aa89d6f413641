package klp

import "strconv"

// SysfsPatch is what /sys/kernel/livepatch/<patch> shows of one listed
// patch (the attributes of core.c's klp_patch_attrs and klp_object_attrs).
type SysfsPatch struct {
	Name       string
	Enabled    bool
	Transition bool
	// Replace is nil where the line has no replace attribute (6.1).
	Replace *bool
	// StackOrder is the 1-based position among listed patches, 0 where
	// the line has no stack_order attribute (6.1, 6.12).
	StackOrder int
	Objects    []SysfsObject
}

// SysfsObject is /sys/kernel/livepatch/<patch>/<object>: static and
// dynamic objects alike, whether their module is loaded or not.
type SysfsObject struct {
	Name    string
	Patched bool
	// Funcs are the names of the function directories, "name,sympos"
	// with sympos 0 shown as 1 (nops included while they exist).
	Funcs []string
}

// SysfsFile is one file of the view, as test-sysfs.sh checks it.
type SysfsFile struct {
	Path  string // relative to /sys/kernel/livepatch
	Mode  string // as ls -l shows it
	Value string // "" for a directory or a write-only file
}

// Sysfs returns /sys/kernel/livepatch: one entry per listed patch, oldest
// first. Every line has enabled, transition, force and <object>/patched;
// 6.12 adds replace (replace_show), 7.x stack_order (stack_order_show,
// renumbered when a patch goes).
func (k *Kernel) Sysfs() []SysfsPatch {
	var out []SysfsPatch
	for i, p := range k.patches {
		sp := SysfsPatch{Name: p.Module, Enabled: p.Enabled, Transition: p == k.transition}
		if k.line.SysfsReplace() {
			r := p.Replace
			sp.Replace = &r
		}
		if k.line.SysfsStackOrder() {
			sp.StackOrder = i + 1
		}
		for _, o := range p.Objects {
			so := SysfsObject{Name: o.Name, Patched: o.Patched, Funcs: make([]string, 0, len(o.Funcs))}
			for _, f := range o.Funcs {
				so.Funcs = append(so.Funcs, f.sysfsName())
			}
			sp.Objects = append(sp.Objects, so)
		}
		out = append(out, sp)
	}
	return out
}

// Files lists the patch's directory as test-sysfs.sh sees it, in a fixed
// order: the patch directory, its attributes, then each object.
func (p SysfsPatch) Files() []SysfsFile {
	b := func(v bool) string {
		if v {
			return "1"
		}
		return "0"
	}
	files := []SysfsFile{
		{Path: p.Name, Mode: "drwxr-xr-x"},
		{Path: p.Name + "/enabled", Mode: "-rw-r--r--", Value: b(p.Enabled)},
		{Path: p.Name + "/force", Mode: "--w-------"},
	}
	if p.Replace != nil {
		files = append(files, SysfsFile{Path: p.Name + "/replace", Mode: "-r--r--r--", Value: b(*p.Replace)})
	}
	if p.StackOrder > 0 {
		files = append(files, SysfsFile{Path: p.Name + "/stack_order", Mode: "-r--r--r--", Value: strconv.Itoa(p.StackOrder)})
	}
	files = append(files, SysfsFile{Path: p.Name + "/transition", Mode: "-r--r--r--", Value: b(p.Transition)})
	for _, o := range p.Objects {
		dir := p.Name + "/" + o.Name
		files = append(files,
			SysfsFile{Path: dir, Mode: "drwxr-xr-x"},
			SysfsFile{Path: dir + "/patched", Mode: "-r--r--r--", Value: b(o.Patched)})
		for _, f := range o.Funcs {
			files = append(files, SysfsFile{Path: dir + "/" + f, Mode: "drwxr-xr-x"})
		}
	}
	return files
}

// sysfsName mirrors the kobject name klp_init_func gives a func: "%s,%lu"
// of old_name and sympos, 0 shown as 1 (6.1, 6.12, 7.x).
func (f *Func) sysfsName() string { return f.Name + "," + strconv.Itoa(max(f.Sympos, 1)) }
