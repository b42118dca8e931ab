package fat32

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/inferpi/inferpi/storage/block"
	"github.com/inferpi/inferpi/storage/imagetest"
	"github.com/inferpi/inferpi/storage/part"
)

// countingDevice records the reads that reach the device, and fails the test on
// any read outside it.
type countingDevice struct {
	block.Device
	t     testing.TB
	reads int
	bytes int64
}

func (d *countingDevice) ReadBlocks(lba uint64, dst []byte) error {
	d.reads++
	d.bytes += int64(len(dst))
	if err := block.CheckRead(d.Device, lba, len(dst)); err != nil {
		d.t.Errorf("read outside the volume: %v", err)
		return err
	}
	return d.Device.ReadBlocks(lba, dst)
}

// mount opens the image of v through the partition code (as the firmware will)
// and mounts the FAT volume it finds.
func mountImage(t testing.TB, v imagetest.Volume) (*FS, *countingDevice) {
	t.Helper()
	img, f, err := block.OpenImage(v.Image)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	vol, info, err := part.FindFAT(img)
	if err != nil {
		t.Fatalf("FindFAT: %v", err)
	}
	if got := int64(info.Start) * 512; got != v.Offset {
		t.Fatalf("FindFAT chose the volume at byte %d, want %d", got, v.Offset)
	}
	dev := &countingDevice{Device: vol, t: t}
	fsys, err := Open(dev)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return fsys, dev
}

// checkFiles reads every file in want through ReadFile, ReadFileInto, Open+Read
// and Stat, and compares every byte.
func checkFiles(t *testing.T, fsys *FS, want map[string][]byte) {
	t.Helper()
	for name, data := range want {
		got, err := fsys.ReadFile(name)
		if err != nil {
			t.Errorf("ReadFile(%q): %v", name, err)
			continue
		}
		if !bytes.Equal(got, data) {
			t.Errorf("ReadFile(%q): %d bytes differ from the %d written (first difference at %d)", name, len(got), len(data), firstDiff(got, data))
		}
		info, err := fsys.Stat(name)
		if err != nil || info.Size() != int64(len(data)) || info.IsDir() || info.Name() != name[strings.LastIndex(name, "/")+1:] {
			t.Errorf("Stat(%q) = %v, %v; want a %d-byte file named as written", name, info, err, len(data))
		}
		f, err := fsys.Open(name)
		if err != nil {
			t.Errorf("Open(%q): %v", name, err)
			continue
		}
		streamed, err := io.ReadAll(f)
		f.Close()
		if err != nil || !bytes.Equal(streamed, data) {
			t.Errorf("Open(%q)+Read: %d bytes, %v; want the %d bytes written", name, len(streamed), err, len(data))
		}
	}
}

func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// TestNames writes long, unicode, 8.3 lower/upper/mixed-case names, names that
// differ only in case (in separate directories, as FAT allows), a deep tree, an
// empty file and cluster-sized files, and reads them all back.
func TestNames(t *testing.T) {
	const cluster = 4096
	v := imagetest.NewSuperfloppy(t, 70_000*cluster, cluster/512)
	deep := []string{}
	p := ""
	for i := range 12 {
		p += fmt.Sprintf("level%02d/", i)
		deep = append(deep, strings.TrimSuffix(p, "/"))
	}
	dirs := append([]string{"Models", "models2", "UPPER", "Ünïcödé ディレクトリ"}, deep...)
	v.Mkdir(t, dirs...)
	want := map[string][]byte{
		"A.TXT":         []byte("upper case 8.3\n"),
		"lower.txt":     []byte("lower case 8.3: NT flags\n"),
		"MiXeD.TxT":     []byte("mixed case needs a long name\n"),
		"lowerbase.TXT": []byte("lower base, upper extension\n"),
		"A very long file name with spaces and dots.tar.gz": imagetest.Bytes(1, 1000),
		strings.Repeat("x", 200) + ".bin":                   imagetest.Bytes(2, 77),
		"Grüße καλημέρα 你好.txt":                             []byte("unicode (mtools 4.0 cannot write astral characters; TestParseDir covers surrogate pairs)\n"),
		"Models/model.bin":                                  imagetest.Bytes(3, 300_000),
		"Models/ReadMe.Txt":                                 []byte("one\n"),
		"models2/README.TXT":                                []byte("two\n"),
		"UPPER/readme.txt":                                  []byte("three\n"),
		"Ünïcödé ディレクトリ/ファイル.md":                            []byte("in a unicode directory\n"),
		"empty":                                {},
		"one-cluster.bin":                      imagetest.Bytes(4, cluster),
		"one-cluster-plus-one.bin":             imagetest.Bytes(5, cluster+1),
		"one-cluster-minus-one.bin":            imagetest.Bytes(6, cluster-1),
		deep[len(deep)-1] + "/bottom.txt":      []byte("twelve levels down\n"),
		deep[5] + "/middle with long name.dat": imagetest.Bytes(7, 9000),
	}
	for name, data := range want {
		v.Put(t, name, data)
	}
	fsys, _ := mountImage(t, v)
	checkFiles(t, fsys, want)

	root, err := fsys.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range root {
		names = append(names, e.Name())
	}
	for _, n := range []string{"A.TXT", "lower.txt", "MiXeD.TxT", "lowerbase.TXT", "Models", "models2", "UPPER", "empty", "level00"} {
		if !slices.Contains(names, n) {
			t.Errorf("root listing %q lacks %q", names, n)
		}
	}
	if !slices.IsSorted(names) {
		t.Errorf("ReadDir(.) is not sorted: %q", names)
	}

	// FAT is case-insensitive: another spelling finds the same file (and the
	// exact spelling wins over another: TestSeedVolume).
	for asked, stored := range map[string]string{"models/README.txt": "ReadMe.Txt", "MODELS2/readme.txt": "README.TXT", "a.txt": "A.TXT"} {
		info, err := fsys.Stat(asked)
		if err != nil || info.Name() != stored {
			t.Errorf("Stat(%q) = %v, %v; want the entry %q", asked, info, err, stored)
		}
	}
	if _, err := fsys.Stat("Models/nothing"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Stat of a missing file: %v, want fs.ErrNotExist", err)
	}
	if _, err := fsys.Open("A.TXT/x"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Open through a file: %v, want fs.ErrNotExist", err)
	}
	if _, err := fsys.ReadFile("Models"); !errors.Is(err, ErrIsDirectory) {
		t.Errorf("ReadFile of a directory: %v, want ErrIsDirectory", err)
	}

	var expected []string
	for name := range want {
		expected = append(expected, name)
	}
	if err := fstest.TestFS(fsys, expected...); err != nil {
		t.Errorf("fstest.TestFS: %v", err)
	}
}

// TestClusterSizes formats a volume with each cluster size from 512 B to 32 KB
// and reads files of the sizes that stress cluster boundaries.
func TestClusterSizes(t *testing.T) {
	for spc := 1; spc <= 64; spc *= 2 {
		cs := spc * 512
		t.Run(fmt.Sprintf("%dB", cs), func(t *testing.T) {
			t.Parallel()
			// FAT32 needs at least 65525 clusters; give it some margin.
			size := max(int64(70_000)*int64(cs), 48<<20)
			v := imagetest.NewSuperfloppy(t, size, spc)
			want := map[string][]byte{
				"zero":           {},
				"one":            {42},
				"cluster":        imagetest.Bytes(10, cs),
				"cluster+1":      imagetest.Bytes(11, cs+1),
				"three-clusters": imagetest.Bytes(12, 3*cs-1),
				"sector+7":       imagetest.Bytes(13, 519),
				"big.bin":        imagetest.Bytes(14, 1<<20+333),
			}
			for name, data := range want {
				v.Put(t, name, data)
			}
			fsys, _ := mountImage(t, v)
			if got := fsys.Info().ClusterSize; got != cs {
				t.Fatalf("cluster size %d, formatted with %d", got, cs)
			}
			checkFiles(t, fsys, want)
		})
	}
}

// TestFragmented fragments a file on purpose: interleaved small files are
// written, every other one deleted, and a large file fills the holes.
func TestFragmented(t *testing.T) {
	const cs = 1024
	v := imagetest.NewSuperfloppy(t, 80<<20, cs/512)
	var gone []string
	for i := range 30 {
		v.Put(t, fmt.Sprintf("keep%02d", i), imagetest.Bytes(uint64(100+i), 3*cs))
		v.Put(t, fmt.Sprintf("gone%02d", i), imagetest.Bytes(uint64(200+i), 5*cs))
		gone = append(gone, fmt.Sprintf("gone%02d", i))
	}
	v.Delete(t, gone...)
	v.ForgetNextFree(t)
	big := imagetest.Bytes(300, 400*cs+17)
	v.Put(t, "model.bin", big)
	fsys, dev := mountImage(t, v)

	e, err := fsys.lookup("open", "model.bin")
	if err != nil {
		t.Fatal(err)
	}
	runs, err := fsys.fileRuns("model.bin", e)
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) < 10 {
		t.Fatalf("model.bin has %d cluster runs; the test meant to fragment it into 30 or more", len(runs))
	}

	before := dev.reads
	buf := make([]byte, len(big))
	var calls int
	var last int64
	n, err := fsys.ReadFileInto("model.bin", buf, func(done, total int64) {
		calls++
		if done < last || total != int64(len(big)) {
			t.Errorf("progress went %d -> %d of %d", last, done, total)
		}
		last = done
	})
	if err != nil || n != len(big) || !bytes.Equal(buf, big) {
		t.Fatalf("ReadFileInto: %d, %v; bytes equal: %v", n, err, bytes.Equal(buf, big))
	}
	if last != int64(len(big)) || calls == 0 {
		t.Errorf("progress ended at %d after %d calls, want %d", last, calls, len(big))
	}
	// One device read per run, plus the partial last sector, plus the root
	// directory and its FAT chunk that the lookup reads.
	if reads := dev.reads - before; reads > len(runs)+3 {
		t.Errorf("ReadFileInto made %d device reads for %d runs; runs are not merged", reads, len(runs))
	}

	// Random-access reads across run boundaries.
	f, err := fsys.Open("model.bin")
	if err != nil {
		t.Fatal(err)
	}
	ra := f.(io.ReaderAt)
	for _, off := range []int{0, 1, 3*cs - 1, 5*cs + 3, 100*cs - 7, len(big) - 20} {
		got := make([]byte, 2*cs+5)
		n, err := ra.ReadAt(got, int64(off))
		wantN := min(len(got), len(big)-off)
		if n != wantN || !bytes.Equal(got[:n], big[off:off+n]) || (n < len(got) && err != io.EOF) {
			t.Errorf("ReadAt(%d): %d bytes, %v; want %d matching bytes", off, n, err, wantN)
		}
	}
	checkFiles(t, fsys, map[string][]byte{"keep00": imagetest.Bytes(100, 3*cs), "keep29": imagetest.Bytes(129, 3*cs)})
}

// TestLargeVolume puts a 6 GiB FAT32 partition 5 GiB into a sparse GPT disk, so
// that sector and byte arithmetic above 32 bits is exercised, and checks that
// mounting it does not read the whole FAT.
func TestLargeVolume(t *testing.T) {
	imagetest.NeedTools(t, "mkfs.fat", "mcopy", "mmd", "sfdisk")
	const (
		start = 5 << 30
		size  = 6 << 30
	)
	v := imagetest.Volume{Image: t.TempDir() + "/big.img", Offset: start}
	imagetest.Sparse(t, v.Image, start+size+(1<<20))
	imagetest.Partition(t, v.Image, fmt.Sprintf("label: gpt\nstart=%d, size=%d, type=EBD0A0A2-B9E5-4433-87C0-68B6B72699C7\n", start/512, size/512))
	imagetest.Format(t, v, 32, 8, size)
	v.Mkdir(t, "tinyllama")
	want := map[string][]byte{
		"tinyllama/model.bin":     imagetest.Bytes(1, 3<<20+5),
		"tinyllama/tokenizer.bin": imagetest.Bytes(2, 4097),
	}
	for name, data := range want {
		v.Put(t, name, data)
	}
	fsys, dev := mountImage(t, v)
	if fsys.Info().Bytes <= 4<<30 {
		t.Fatalf("volume is %d bytes, want more than 4 GiB", fsys.Info().Bytes)
	}
	if dev.bytes > 4<<10 {
		t.Errorf("mount read %d bytes; it needs only the boot sector", dev.bytes)
	}
	// Finding a file walks two directories through the FAT of 1.5 million
	// clusters (6 MiB): only a chunk or two of it may be read.
	if _, err := fsys.Stat("tinyllama/model.bin"); err != nil {
		t.Fatal(err)
	}
	if dev.bytes > 256<<10 {
		t.Errorf("a lookup read %d bytes; the FAT is not read lazily", dev.bytes)
	}
	checkFiles(t, fsys, want)
}
