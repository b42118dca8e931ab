package fat32

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/inferpi/inferpi/storage/block"
	"github.com/inferpi/inferpi/storage/imagetest"
)

// BenchmarkReadFileInto reads a 256 MB file from a disk image through the FS
// (ReadFileInto, as the loader does) and the same bytes straight from the image
// file with os.File.ReadAt, in the same run, and reports both throughputs and
// their ratio ("fs/direct": 1.0 means the file system costs nothing).
//
//	go test -run XXX -bench ReadFileInto -benchtime 5x ./storage/fat32
func BenchmarkReadFileInto(b *testing.B) {
	const size = 256 << 20
	v := imagetest.NewSuperfloppy(b, 300<<20, 8)
	data := imagetest.Bytes(42, size)
	local := filepath.Join(b.TempDir(), "model.bin")
	if err := os.WriteFile(local, data, 0o644); err != nil {
		b.Fatal(err)
	}
	v.PutFile(b, local, "model.bin")
	os.Remove(local)

	dev, img, err := block.OpenImage(v.Image)
	if err != nil {
		b.Fatal(err)
	}
	defer img.Close()
	fsys, err := Open(dev)
	if err != nil {
		b.Fatal(err)
	}
	e, err := fsys.lookup("open", "model.bin")
	if err != nil {
		b.Fatal(err)
	}
	runs, err := fsys.fileRuns("model.bin", e)
	if err != nil {
		b.Fatal(err)
	}

	dst := make([]byte, size)
	if _, err := fsys.ReadFileInto("model.bin", dst, nil); err != nil || !bytes.Equal(dst, data) {
		b.Fatalf("the file read back wrong (%v)", err)
	}
	data = nil

	var viaFS, direct time.Duration
	b.ResetTimer()
	for b.Loop() {
		t0 := time.Now()
		if _, err := fsys.ReadFileInto("model.bin", dst, nil); err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		rest := dst
		for _, r := range runs {
			n := min(int(r.count)*fsys.clusterSize, len(rest))
			if _, err := img.ReadAt(rest[:n], int64(fsys.clusterOffset(r.first))); err != nil {
				b.Fatal(err)
			}
			rest = rest[n:]
		}
		viaFS += t1.Sub(t0)
		direct += time.Since(t1)
	}
	mbps := func(d time.Duration) float64 { return float64(size) * float64(b.N) / d.Seconds() / 1e6 }
	b.ReportMetric(mbps(viaFS), "fs-MB/s")
	b.ReportMetric(mbps(direct), "direct-MB/s")
	b.ReportMetric(mbps(viaFS)/mbps(direct), "fs/direct")
	b.ReportMetric(float64(len(runs)), "runs")
}
