// Package hostmem tells how much memory this process may still take on the
// host, for the context planner of the hosted `inferpi` (engine.PlanContext):
// on Linux the kernel's MemAvailable, or less when the process's cgroup has a
// memory limit (a container); elsewhere it does not know.
package hostmem

import (
	"bufio"
	"strconv"
	"strings"
)

// Available is the memory this process may still take, in bytes, and where
// the figure comes from ("MemAvailable", "cgroup memory.max"); 0 and "" when
// the host does not say.
func Available() (bytes int64, source string) { return available() }

// memAvailable reads MemAvailable (in kB) from /proc/meminfo's text: the
// memory a new program can take without swapping, page cache it may reclaim
// included (Linux's Documentation/filesystems/proc.rst).
func memAvailable(meminfo string) (int64, bool) {
	sc := bufio.NewScanner(strings.NewReader(meminfo))
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), "MemAvailable:")
		if !ok {
			continue
		}
		f := strings.Fields(rest)
		if len(f) != 2 || f[1] != "kB" {
			return 0, false
		}
		kb, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil || kb < 0 || kb > 1<<50 {
			return 0, false
		}
		return kb << 10, true
	}
	return 0, false
}

// cgroupPaths reads /proc/self/cgroup's text: the process's cgroup v2 path
// (the "0::" line) and its cgroup v1 memory controller's path.
func cgroupPaths(text string) (v2, v1memory string) {
	for _, line := range strings.Split(text, "\n") {
		id, rest, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		controllers, path, ok := strings.Cut(rest, ":")
		if !ok || !strings.HasPrefix(path, "/") || strings.Contains(path, "/../") || strings.HasSuffix(path, "/..") {
			continue
		}
		switch {
		case id == "0" && controllers == "":
			v2 = path
		case containsWord(controllers, "memory"):
			v1memory = path
		}
	}
	return v2, v1memory
}

func containsWord(list, word string) bool {
	for _, w := range strings.Split(list, ",") {
		if w == word {
			return true
		}
	}
	return false
}

// noLimit is where a cgroup's limit means none: cgroup v2 writes "max", v1 a
// page-rounded 2^63-1.
const noLimit = 1 << 60

// cgroupBytes reads a cgroup file holding one byte count ("max" is none: -1).
func cgroupBytes(text string) (int64, bool) {
	s := strings.TrimSpace(text)
	if s == "max" {
		return -1, true
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return 0, false
	}
	if n >= noLimit {
		return -1, true
	}
	return n, true
}
