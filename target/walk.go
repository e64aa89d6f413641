package target

import (
	"cmp"
	"errors"
	"fmt"
	"path/filepath"
	"runtime"
	"slices"
	"sync"

	"github.com/klpc/klpc/internal/safeio"
)

// Reading a module tree cold: the walk and the reads share the cores. A
// worker takes a folder, lists it (a few getdents calls on its
// descriptor), queues its subfolders for any worker, and reads the module
// files it holds, each opened relative to the folder: the kernel walks
// one path component per file rather than the tree's whole path, and a
// file the listing showed as regular is opened without following a
// symlink. Nothing waits for the whole tree to be listed first.

// moduleRead is one module file a tree walk found and read.
type moduleRead struct {
	file inputFile
	obj  *Object
	in   Input
	err  error
	// id is the file's identity as opened (zero when it was not).
	id fileStat
}

// walkError is a folder the walk could not list, or too deep.
type walkError struct {
	path string
	err  error
}

// walkRead walks the modules folder root and reads every module file in
// it, on all cores; a nil reader only lists them. The files come back sorted by path, as listFiles
// lists them; dirs, when not nil, receives every folder listed with its
// identity before the listing, sorted by path. Module files that cannot
// be read carry their error; a folder that cannot be listed fails the
// walk, and so does a tree over the walk's bounds (the same as
// walkModuleFiles). When several folders fail, the error reported is the
// one of the first path, whatever the order the workers met them in.
func (rd *reader) walkRead(root, realRoot string, rules moduleRules, hash bool, dirs *dirList) ([]moduleRead, error) {
	type job struct {
		path  string
		depth int
	}
	type listed struct {
		path string
		id   fileStat
	}
	var (
		mu      sync.Mutex
		wake    = sync.NewCond(&mu)
		queue   = []job{{root, 0}}
		active  int
		left    = maxModuleTreeEntries
		tooMany bool
		errs    []walkError
		out     []moduleRead
		folders []listed
	)
	worker := func() {
		var reads []moduleRead
		var seen []listed
		for {
			mu.Lock()
			for len(queue) == 0 && active > 0 && !tooMany {
				wake.Wait()
			}
			if len(queue) == 0 || tooMany {
				mu.Unlock()
				break
			}
			j := queue[len(queue)-1]
			queue = queue[:len(queue)-1]
			active++
			max := left
			mu.Unlock()

			var id fileStat
			subs, found, err := rd.readFolder(j.path, j.depth, root, realRoot, max, rules, hash, &id, &reads)

			mu.Lock()
			active--
			if dirs != nil {
				seen = append(seen, listed{j.path, id})
			}
			switch {
			case errors.Is(err, errTooManyEntries):
				tooMany = true
			case err != nil:
				errs = append(errs, walkError{j.path, err})
			default:
				if left -= found; left < 0 {
					tooMany = true
				}
				for _, s := range subs {
					queue = append(queue, job{s, j.depth + 1})
				}
			}
			mu.Unlock()
			wake.Broadcast()
		}
		wake.Broadcast()
		mu.Lock()
		out = append(out, reads...)
		folders = append(folders, seen...)
		mu.Unlock()
	}
	if rd != nil {
		defer pauseGC()()
	}
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			worker()
		}()
	}
	wg.Wait()
	if tooMany {
		return nil, &ParseError{File: root, Msg: fmt.Sprintf("the modules folder holds more than %d files and folders", maxModuleTreeEntries)}
	}
	if len(errs) > 0 {
		return nil, slices.MinFunc(errs, func(a, b walkError) int { return cmp.Compare(a.path, b.path) }).err
	}
	slices.SortFunc(out, func(a, b moduleRead) int { return cmp.Compare(a.file.path, b.file.path) })
	if dirs != nil {
		slices.SortFunc(folders, func(a, b listed) int { return cmp.Compare(a.path, b.path) })
		for _, f := range folders {
			dirs.paths = append(dirs.paths, inputFile{kind: "folder", path: f.path})
			dirs.stats = append(dirs.stats, f.id)
		}
	}
	return out, nil
}

// readFolder lists one folder of a tree walk (at most max entries), reads
// the module files in it onto reads, and returns its subfolders and how
// many entries it holds. id receives the folder's identity before the
// listing.
func (rd *reader) readFolder(path string, depth int, root, realRoot string, max int, rules moduleRules, hash bool, id *fileStat, reads *[]moduleRead) ([]string, int, error) {
	if depth > maxModuleTreeDepth {
		return nil, 0, &ParseError{File: path, Msg: fmt.Sprintf("is more than %d folders deep in the modules folder %s", maxModuleTreeDepth, root)}
	}
	var d *safeio.Folder
	var err error
	if depth == 0 {
		d, err = safeio.OpenFolder(path)
	} else {
		d, err = safeio.OpenSubfolder(path)
	}
	if err != nil {
		return nil, 0, err
	}
	defer d.Close()
	if info, err := d.Info(); err == nil {
		*id = identityOf(info)
	}
	ents, err := d.List(max)
	if errors.Is(err, safeio.ErrTooManyEntries) {
		return nil, 0, errTooManyEntries
	}
	if err != nil {
		return nil, 0, err
	}
	var subs []string
	for _, e := range ents {
		p := filepath.Join(path, e.Name)
		if e.Type.IsDir() {
			subs = append(subs, p)
			continue
		}
		if !isModuleFile(e.Name) {
			continue
		}
		r := moduleRead{file: inputFile{kind: KindModule, path: p, listed: e.Type.IsRegular()}}
		r.in = Input{Kind: KindModule, Path: p}
		if rd == nil {
			*reads = append(*reads, r)
			continue
		}
		var fh *safeio.File
		if r.file.listed {
			fh, r.err = d.OpenListed(e.Name, limitOf(KindModule))
		} else if r.err = insideFolder(realRoot, p); r.err == nil {
			fh, r.err = safeio.OpenFile(p, limitOf(KindModule))
		}
		if r.err == nil {
			r.id = identityOf(fh.Info())
			r.obj, r.in, r.err = rd.readModuleOpen(fh, r.file, rules, hash)
			fh.Close()
		}
		if r.id == (fileStat{}) {
			// Not opened: what the index cache compares is still its
			// identity.
			if st, err := safeio.Stat(p); err == nil {
				r.id = identityOf(st)
			}
		}
		*reads = append(*reads, r)
	}
	return subs, len(ents), nil
}
