//go:build unix

package bench_test

import (
	"syscall"
	"time"
)

// cpuTime returns the user+system CPU time of the whole process so far:
// client and in-process stub together, the same for SDK and baseline.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
