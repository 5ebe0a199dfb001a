//go:build !unix

package bench_test

import "time"

// cpuTime is not measured on this platform; the cpu-ns/op metric is left out.
func cpuTime() time.Duration { return 0 }
