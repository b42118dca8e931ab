//go:build !linux

package hostmem

func available() (int64, string) { return 0, "" }
