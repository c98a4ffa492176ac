package edged

import "syscall"

// pullSysProcAttr puts ffmpeg in a process group of its own (a Ctrl-C in
// the edge's terminal reaches the edge, which stops ffmpeg itself, in
// order) and has the kernel kill it if the edge dies without stopping it,
// so no camera is left being read by an orphan.
func pullSysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
