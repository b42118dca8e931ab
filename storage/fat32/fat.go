package fat32

import (
	"encoding/binary"
	"fmt"
	"sort"
)

// FAT32 entry values (Microsoft FAT spec; U-Boot IS_LAST_CLUST/CHECK_CLUST): the top
// four bits are reserved, 0 is free, 0x0FFFFFF7 marks a bad cluster and anything
// from 0x0FFFFFF8 ends a chain.
const (
	entryMask   = 0x0FFFFFFF
	badCluster  = 0x0FFFFFF7
	endOfChain  = 0x0FFFFFF8
	maxDirBytes = 65536 * 32 // the spec's limit on directory size: 65536 entries
)

// fatCache reads the FAT in aligned chunks on demand and keeps a few of them.
// Walking one file's chain touches consecutive entries, so one chunk serves
// thousands of clusters; a 64 GB volume's 32 MB FAT is never read whole.
type fatCache struct {
	f      *FS
	start  uint64 // byte offset of the FAT in the volume
	size   uint64 // bytes of FAT that describe real clusters
	chunk  uint64 // chunk size in bytes, a multiple of the device block
	chunks map[uint64][]byte
	order  []uint64 // chunk indices, oldest first, for eviction
}

const (
	fatChunkBytes = 64 << 10
	fatMaxChunks  = 32 // 2 MiB of FAT, enough for a 2 GB file's chain with 4 KB clusters
)

func newFATCache(f *FS, start, size uint64) *fatCache {
	chunk := uint64(fatChunkBytes)
	if bs := uint64(f.devBlock); chunk%bs != 0 {
		chunk = bs
	}
	return &fatCache{f: f, start: start, size: size, chunk: chunk, chunks: map[uint64][]byte{}}
}

// entry returns the FAT entry of cluster c (masked to 28 bits). The caller holds f.mu.
func (fc *fatCache) entry(c uint32) (uint32, error) {
	off := uint64(c) * 4
	idx := off / fc.chunk
	buf, ok := fc.chunks[idx]
	if !ok {
		n := fc.chunk
		if rest := fc.size - idx*fc.chunk; rest < n {
			// The last chunk: round up to whole device blocks (still inside the FAT,
			// whose size is a whole number of sectors).
			bs := uint64(fc.f.devBlock)
			n = (rest + bs - 1) / bs * bs
		}
		buf = make([]byte, n)
		if err := fc.f.readAt(buf, fc.start+idx*fc.chunk, nil); err != nil {
			return 0, fmt.Errorf("reading the FAT: %w", err)
		}
		if len(fc.order) >= fatMaxChunks {
			delete(fc.chunks, fc.order[0])
			fc.order = fc.order[1:]
		}
		fc.chunks[idx] = buf
		fc.order = append(fc.order, idx)
	}
	return binary.LittleEndian.Uint32(buf[off-idx*fc.chunk:]) & entryMask, nil
}

// run is a stretch of consecutive clusters.
type run struct {
	first uint32 // cluster number
	count uint32
}

// chainError builds the error for a broken chain of the named file or directory.
func chainError(name, format string, args ...any) error {
	return pathError("read", name, fmt.Errorf("%w: "+format, append([]any{ErrCorrupt}, args...)...))
}

// chain follows the cluster chain from start and returns it as runs of
// consecutive clusters. want is the number of clusters the caller needs (a file's
// size in clusters): the walk stops there, and a chain that ends sooner is an
// error. want < 0 means "to the end of the chain" (directories), bounded by the
// largest legal directory. Every cluster is checked to lie inside the volume and
// a cluster met twice (a loop) is an error, so a corrupt FAT can neither hang the
// walk nor point a read outside the volume.
func (f *FS) chain(name string, start uint32, want int64) ([]run, error) {
	limit := want
	if want < 0 {
		limit = (maxDirBytes + int64(f.clusterSize) - 1) / int64(f.clusterSize)
	}
	if limit == 0 {
		return nil, nil
	}
	if limit > int64(f.bpb.Clusters) {
		return nil, chainError(name, "needs %d clusters, the volume has only %d", limit, f.bpb.Clusters)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	var runs []run
	c := start
	for n := int64(0); ; n++ {
		if c < 2 || c > f.maxCluster {
			if n == 0 {
				return nil, chainError(name, "first cluster %d is outside the volume's clusters 2..%d", c, f.maxCluster)
			}
			return nil, chainError(name, "cluster chain leaves the volume: cluster %d points to %d (valid clusters are 2..%d)", runs[len(runs)-1].first+runs[len(runs)-1].count-1, c, f.maxCluster)
		}
		if k := len(runs); k > 0 && runs[k-1].first+runs[k-1].count == c {
			runs[k-1].count++
		} else {
			runs = append(runs, run{first: c, count: 1})
		}
		if n+1 == limit && want >= 0 {
			break
		}
		next, err := f.fat.entry(c)
		if err != nil {
			return nil, pathError("read", name, err)
		}
		switch {
		case next >= endOfChain:
			if want >= 0 {
				return nil, chainError(name, "cluster chain ends after %d clusters, the size needs %d", n+1, want)
			}
			return runs, checkLoop(name, runs)
		case next == badCluster:
			return nil, chainError(name, "cluster chain reaches a cluster marked bad (after cluster %d)", c)
		case next < 2:
			return nil, chainError(name, "cluster chain reaches a free cluster (cluster %d points to %d)", c, next)
		}
		if n+1 == limit {
			if err := checkLoop(name, runs); err != nil {
				return nil, err
			}
			return nil, chainError(name, "directory is longer than %d bytes (%d clusters): its cluster chain loops or is corrupt", maxDirBytes, limit)
		}
		c = next
	}
	return runs, checkLoop(name, runs)
}

// checkLoop reports a chain that visits a cluster twice: its runs overlap.
func checkLoop(name string, runs []run) error {
	if len(runs) < 2 {
		return nil
	}
	s := append([]run(nil), runs...)
	sort.Slice(s, func(i, j int) bool { return s[i].first < s[j].first })
	for i := 1; i < len(s); i++ {
		if uint64(s[i-1].first)+uint64(s[i-1].count) > uint64(s[i].first) {
			return chainError(name, "cluster chain loops (cluster %d is used twice)", s[i].first)
		}
	}
	return nil
}
