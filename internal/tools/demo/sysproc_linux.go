package demo

import "syscall"

// sysProcAttr puts the agent in its own process group and, should the demo
// die without cleaning up, has the kernel stop it.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
}
