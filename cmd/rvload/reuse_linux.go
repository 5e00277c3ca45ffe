package main

import (
	"syscall"

	"golang.org/x/sys/unix"
)

// reuseAddr sets SO_REUSEADDR on a socket before it connects, and
// IP_BIND_ADDRESS_NO_PORT, so that binding to -source leaves the choice of
// the port to connect: without it, each bind searches the whole port range
// for a port free of every socket bound to the address, which with
// thousands of open connections costs the client more CPU than the
// server spends on a connect.
func reuseAddr(network, address string, c syscall.RawConn) error {
	var serr error
	err := c.Control(func(fd uintptr) {
		serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_REUSEADDR, 1)
		if serr == nil && network != "tcp6" {
			serr = unix.SetsockoptInt(int(fd), unix.IPPROTO_IP, unix.IP_BIND_ADDRESS_NO_PORT, 1)
		}
	})
	if err != nil {
		return err
	}
	return serr
}
