package vod_test

import (
	"time"

	"golang.org/x/sys/unix"
)

// processCPU is the CPU time the process has used, user and system, and
// whether it is known.
func processCPU() (time.Duration, bool) {
	var ru unix.Rusage
	if err := unix.Getrusage(unix.RUSAGE_SELF, &ru); err != nil {
		return 0, false
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), true
}
