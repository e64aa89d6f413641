//go:build !unix

package safeio

import "os"

type sysFile struct{ f *os.File }

func infoFrom(st os.FileInfo) Info {
	return Info{Size: st.Size(), Mode: st.Mode(), ModTime: st.ModTime()}
}

func statInfo(path string) (Info, error) {
	st, err := os.Stat(path)
	if err != nil {
		return Info{}, err
	}
	return infoFrom(st), nil
}

// Stat returns the identity of path after symlinks.
func Stat(path string) (Info, error) { return statInfo(path) }

func openRaw(path string) (*File, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	st, err := fh.Stat()
	if err != nil {
		fh.Close()
		return nil, err
	}
	return &File{path: path, info: infoFrom(st), sys: sysFile{f: fh}}, nil
}

func (f *File) pread(p []byte, off int64) (int, error) { return f.sys.f.ReadAt(p, off) }

func (f *File) close() error { return f.sys.f.Close() }
