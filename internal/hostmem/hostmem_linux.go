package hostmem

import (
	"os"
	"path"
)

func available() (int64, string) {
	meminfo, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return 0, ""
	}
	bytes, ok := memAvailable(string(meminfo))
	if !ok {
		return 0, ""
	}
	source := "MemAvailable"
	if room, file, ok := cgroupRoom(); ok && room < bytes {
		bytes, source = room, "cgroup "+file
	}
	return bytes, source
}

// cgroupRoom is the process's cgroup memory limit less its usage, when there
// is a limit: cgroup v2's memory.max and memory.current, or v1's
// memory.limit_in_bytes and memory.usage_in_bytes, in the process's cgroup
// directory or, in a container whose cgroup namespace hides the path, at the
// mount's root.
func cgroupRoom() (room int64, file string, ok bool) {
	self, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		return 0, "", false
	}
	v2, v1 := cgroupPaths(string(self))
	type hierarchy struct{ root, path, limit, usage string }
	var tries []hierarchy
	if v2 != "" {
		tries = append(tries, hierarchy{"/sys/fs/cgroup", v2, "memory.max", "memory.current"})
	}
	if v1 != "" {
		tries = append(tries, hierarchy{"/sys/fs/cgroup/memory", v1, "memory.limit_in_bytes", "memory.usage_in_bytes"})
	}
	for _, h := range tries {
		for _, dir := range []string{path.Join(h.root, h.path), h.root} {
			limit, ok1 := readBytes(path.Join(dir, h.limit))
			usage, ok2 := readBytes(path.Join(dir, h.usage))
			if !ok1 || !ok2 {
				continue
			}
			if limit < 0 {
				break // no limit at this level
			}
			return max(limit-usage, 0), h.limit, true
		}
	}
	return 0, "", false
}

func readBytes(name string) (int64, bool) {
	b, err := os.ReadFile(name)
	if err != nil {
		return 0, false
	}
	return cgroupBytes(string(b))
}
