//go:build (!amd64 && !arm64) || purego

package kernels

// No SIMD kernels for this architecture (or the purego build tag is set).
func simdImpl() (*impl, bool) { return nil, false }

func readStreamSIMD(p []byte) uint64 {
	var acc uint64
	for i := 0; i+8 <= len(p); i += 8 {
		acc |= uint64(p[i]) | uint64(p[i+1])<<8 | uint64(p[i+2])<<16 | uint64(p[i+3])<<24 |
			uint64(p[i+4])<<32 | uint64(p[i+5])<<40 | uint64(p[i+6])<<48 | uint64(p[i+7])<<56
	}
	return acc
}
