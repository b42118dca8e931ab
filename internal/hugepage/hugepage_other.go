//go:build !linux

package hugepage

func advise([]byte) bool { return false }

func interior(b []byte) (lo, hi int) { return 0, 0 }
