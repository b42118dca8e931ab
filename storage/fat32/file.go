package fat32

import (
	"io"
	"io/fs"
	"slices"
	"strings"
	"time"
)

// Compile-time checks of the interfaces the loader and io/fs users rely on.
var (
	_ fs.FS          = (*FS)(nil)
	_ fs.ReadDirFS   = (*FS)(nil)
	_ fs.StatFS      = (*FS)(nil)
	_ fs.ReadFileFS  = (*FS)(nil)
	_ fs.ReadDirFile = (*dir)(nil)
	_ io.ReaderAt    = (*file)(nil)
	_ io.Seeker      = (*file)(nil)
)

// root is the entry that stands for the root directory.
func (f *FS) root() dirEntry {
	return dirEntry{name: ".", attr: attrDirectory, cluster: f.bpb.RootCluster}
}

// readDir returns the entries of directory d (named name, for errors).
func (f *FS) readDir(name string, d dirEntry) ([]dirEntry, error) {
	runs, err := f.chain(name, d.cluster, -1)
	if err != nil {
		return nil, err
	}
	var total uint64
	for _, r := range runs {
		total += uint64(r.count) * uint64(f.clusterSize)
	}
	raw := make([]byte, total)
	if err := f.readRuns(raw, runs, nil); err != nil {
		return nil, pathError("read", name, err)
	}
	return parseDir(raw), nil
}

// lookup finds the entry for a valid io/fs path. Each component matches an exact
// name first and otherwise one that differs only in case (FAT names are
// case-insensitive; the long name keeps the case it was written with).
func (f *FS) lookup(op, name string) (dirEntry, error) {
	if !fs.ValidPath(name) {
		return dirEntry{}, pathError(op, name, fs.ErrInvalid)
	}
	e := f.root()
	if name == "." {
		return e, nil
	}
	parts := strings.Split(name, "/")
	// A corrupt directory entry can point back at an ancestor; refusing that keeps
	// fs.WalkDir from descending forever.
	ancestors := map[uint32]bool{}
	for i, p := range parts {
		if e.isDir() {
			if ancestors[e.cluster] {
				return dirEntry{}, pathError(op, name, errorf("%w: directory %s is its own ancestor (cluster %d)", ErrCorrupt, strings.Join(parts[:i], "/"), e.cluster))
			}
			ancestors[e.cluster] = true
		}
		sofar := strings.Join(parts[:i], "/")
		if !e.isDir() {
			return dirEntry{}, pathError(op, name, errorf("%s is a file, %w: %w", sofar, ErrNotDirectory, fs.ErrNotExist))
		}
		if sofar == "" {
			sofar = "."
		}
		list, err := f.readDir(sofar, e)
		if err != nil {
			return dirEntry{}, err
		}
		found := -1
		for j := range list {
			if list[j].name == p {
				found = j
				break
			}
			if found < 0 && strings.EqualFold(list[j].name, p) {
				found = j
			}
		}
		if found < 0 {
			return dirEntry{}, pathError(op, name, fs.ErrNotExist)
		}
		e = list[found]
	}
	// Report the name as asked, but the entry as stored (its case may differ).
	return e, nil
}

// Open opens the named file or directory for reading (io/fs.FS).
func (f *FS) Open(name string) (fs.File, error) {
	e, err := f.lookup("open", name)
	if err != nil {
		return nil, err
	}
	if e.isDir() {
		list, err := f.readDir(name, e)
		if err != nil {
			return nil, err
		}
		return &dir{info: fileInfo{e}, entries: list}, nil
	}
	runs, err := f.fileRuns(name, e)
	if err != nil {
		return nil, err
	}
	return &file{fs: f, name: name, info: fileInfo{e}, runs: runs}, nil
}

// fileRuns returns the cluster runs holding a file's bytes.
func (f *FS) fileRuns(name string, e dirEntry) ([]run, error) {
	if e.size == 0 {
		return nil, nil
	}
	cs := int64(f.clusterSize)
	return f.chain(name, e.cluster, (int64(e.size)+cs-1)/cs)
}

// ReadDir lists the named directory sorted by name (io/fs.ReadDirFS).
func (f *FS) ReadDir(name string) ([]fs.DirEntry, error) {
	e, err := f.lookup("readdir", name)
	if err != nil {
		return nil, err
	}
	if !e.isDir() {
		return nil, pathError("readdir", name, ErrNotDirectory)
	}
	list, err := f.readDir(name, e)
	if err != nil {
		return nil, err
	}
	out := toDirEntries(list)
	slices.SortFunc(out, func(a, b fs.DirEntry) int { return strings.Compare(a.Name(), b.Name()) })
	return out, nil
}

// Stat describes the named file or directory (io/fs.StatFS).
func (f *FS) Stat(name string) (fs.FileInfo, error) {
	e, err := f.lookup("stat", name)
	if err != nil {
		return nil, err
	}
	return fileInfo{e}, nil
}

// ReadFile returns the whole named file (io/fs.ReadFileFS).
func (f *FS) ReadFile(name string) ([]byte, error) {
	info, err := f.Stat(name)
	if err != nil {
		return nil, err
	}
	if info.IsDir() {
		return nil, pathError("read", name, ErrIsDirectory)
	}
	buf := make([]byte, info.Size())
	n, err := f.ReadFileInto(name, buf, nil)
	return buf[:n], err
}

// ReadFileInto reads the whole named file into dst, which must hold its size, and
// returns the size. This is the loader's fast path: each run of consecutive
// clusters becomes one large device read straight into dst (in slices of
// readChunk bytes, to call progress), so the device sets the speed. progress,
// if not nil, is called with the bytes read so far and the file's size, at least
// once at the end.
func (f *FS) ReadFileInto(name string, dst []byte, progress func(done, total int64)) (int, error) {
	e, err := f.lookup("read", name)
	if err != nil {
		return 0, err
	}
	if e.isDir() {
		return 0, pathError("read", name, ErrIsDirectory)
	}
	size := int(e.size)
	if len(dst) < size {
		return 0, pathError("read", name, errorf("file is %d bytes, the buffer holds only %d", size, len(dst)))
	}
	runs, err := f.fileRuns(name, e)
	if err != nil {
		return 0, err
	}
	var report func(int)
	if progress != nil {
		done := int64(0)
		report = func(n int) { done += int64(n); progress(done, int64(size)) }
		if size == 0 {
			progress(0, 0)
		}
	}
	if err := f.readRuns(dst[:size], runs, report); err != nil {
		return 0, pathError("read", name, err)
	}
	return size, nil
}

// fileInfo is an fs.FileInfo and the basis of fs.DirEntry.
type fileInfo struct{ e dirEntry }

func (i fileInfo) Name() string       { return i.e.name }
func (i fileInfo) Size() int64        { return int64(i.e.size) }
func (i fileInfo) ModTime() time.Time { return i.e.modTime }
func (i fileInfo) IsDir() bool        { return i.e.isDir() }
func (i fileInfo) Sys() any           { return nil }
func (i fileInfo) Mode() fs.FileMode {
	if i.e.isDir() {
		return fs.ModeDir | 0o555
	}
	return 0o444
}

// Info, Type and the methods above make fileInfo an fs.DirEntry as well.
func (i fileInfo) Info() (fs.FileInfo, error) { return i, nil }
func (i fileInfo) Type() fs.FileMode          { return i.Mode().Type() }
func (i fileInfo) String() string             { return fs.FormatDirEntry(i) }

func toDirEntries(list []dirEntry) []fs.DirEntry {
	out := make([]fs.DirEntry, len(list))
	for i, e := range list {
		out[i] = fileInfo{e}
	}
	return out
}

// file is an open regular file.
type file struct {
	fs     *FS
	name   string
	info   fileInfo
	runs   []run
	offset int64
	closed bool
}

func (fl *file) Stat() (fs.FileInfo, error) { return fl.info, nil }

func (fl *file) Close() error {
	if fl.closed {
		return pathError("close", fl.name, fs.ErrClosed)
	}
	fl.closed = true
	return nil
}

func (fl *file) Read(p []byte) (int, error) {
	n, err := fl.ReadAt(p, fl.offset)
	fl.offset += int64(n)
	if err == io.EOF && n > 0 {
		err = nil
	}
	return n, err
}

func (fl *file) Seek(offset int64, whence int) (int64, error) {
	if fl.closed {
		return 0, pathError("seek", fl.name, fs.ErrClosed)
	}
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		offset += fl.offset
	case io.SeekEnd:
		offset += fl.info.Size()
	default:
		return 0, pathError("seek", fl.name, fs.ErrInvalid)
	}
	if offset < 0 {
		return 0, pathError("seek", fl.name, fs.ErrInvalid)
	}
	fl.offset = offset
	return offset, nil
}

// ReadAt reads from the file at byte offset off, straight from the runs that hold
// that range.
func (fl *file) ReadAt(p []byte, off int64) (int, error) {
	if fl.closed {
		return 0, pathError("read", fl.name, fs.ErrClosed)
	}
	if off < 0 {
		return 0, pathError("read", fl.name, fs.ErrInvalid)
	}
	size := fl.info.Size()
	if off >= size {
		return 0, io.EOF
	}
	want := p
	if rest := size - off; int64(len(want)) > rest {
		want = want[:rest]
	}
	cs := int64(fl.fs.clusterSize)
	n := 0
	runStart := int64(0) // file offset of the current run
	for _, r := range fl.runs {
		runLen := int64(r.count) * cs
		if n < len(want) && off+int64(n) < runStart+runLen {
			in := off + int64(n) - runStart // offset within this run
			k := min(int64(len(want)-n), runLen-in)
			if err := fl.fs.readAt(want[n:n+int(k)], fl.fs.clusterOffset(r.first)+uint64(in), nil); err != nil {
				return n, pathError("read", fl.name, err)
			}
			n += int(k)
		}
		runStart += runLen
	}
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// dir is an open directory.
type dir struct {
	info    fileInfo
	entries []dirEntry
	next    int
}

func (d *dir) Stat() (fs.FileInfo, error) { return d.info, nil }
func (d *dir) Close() error               { return nil }
func (d *dir) Read([]byte) (int, error) {
	return 0, pathError("read", d.info.Name(), ErrIsDirectory)
}

// ReadDir returns the next n entries in directory order (fs.ReadDirFile).
func (d *dir) ReadDir(n int) ([]fs.DirEntry, error) {
	rest := d.entries[d.next:]
	if n > 0 && len(rest) == 0 {
		return nil, io.EOF
	}
	if n > 0 && n < len(rest) {
		rest = rest[:n]
	}
	d.next += len(rest)
	return toDirEntries(rest), nil
}
