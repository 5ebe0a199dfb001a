//go:build !unix

package main

import "time"

// cpuTime is not measured on this platform: cpu_seconds is reported as 0.
func cpuTime() time.Duration { return 0 }
