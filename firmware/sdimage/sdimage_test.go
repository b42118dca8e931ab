package sdimage

import "testing"

func TestClusterSectors(t *testing.T) {
	for size, want := range map[int64]int{MinSize - 1<<20: 1, 128 << 20: 2, 1 << 30: 16, 8 << 30: 64, 64 << 30: 64} {
		s := clusterSectors(size)
		if s != want || size/int64(s*512) < 65525 {
			t.Errorf("%d MiB: %d sectors per cluster (%d clusters), want %d", size>>20, s, size/int64(s*512), want)
		}
	}
}
