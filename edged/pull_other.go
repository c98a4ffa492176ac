//go:build !linux

package edged

import "syscall"

// pullSysProcAttr is Linux's only (see pull_linux.go): elsewhere ffmpeg
// runs with the defaults and is stopped by the edge alone.
func pullSysProcAttr() *syscall.SysProcAttr { return nil }
